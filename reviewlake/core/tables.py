"""The lakehouse's table catalogue: every Delta table, where it lives and which job writes it.

A table is ``<lakehouse>/<layer>/<name>`` (docs/tables.md holds the columns). Its writer's run lock
also guards the table's maintenance (OPTIMIZE, VACUUM, RESTORE).
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewlake.core.settings import Settings
from reviewlake.core.uris import join

LAYERS = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class Table:
    layer: str
    name: str
    writer: str  # the job that writes it
    key: str  # the short name its jobs use for it

    @property
    def path(self) -> str:
        return f"{self.layer}/{self.name}"

    def uri(self, cfg: Settings) -> str:
        return uri(cfg, self.layer, self.name)


CATALOGUE = (
    Table("bronze", "reviews_raw", "clean_reviews", "bronze"),
    Table("bronze", "quarantine", "clean_reviews", "quarantine"),
    Table("bronze", "files", "clean_reviews", "files"),
    Table("silver", "reviews", "clean_reviews", "silver"),
    Table("silver", "disposition", "clean_reviews", "disposition"),
    Table("silver", "dedupe_index", "clean_reviews", "index"),
    Table("gold", "vocab", "build_features", "vocab"),
    Table("gold", "labels", "build_features", "labels"),
    Table("gold", "features", "build_features", "features"),
    Table("gold", "predictions", "score_reviews", "predictions"),
    Table("gold", "label_issues", "label_issues", "label_issues"),
)
BY_PATH = {t.path: t for t in CATALOGUE}


def under(cfg: Settings, *parts: str) -> str:
    """``<lakehouse>/<part>/...`` as an absolute URI: a table (``silver/reviews``), or one of the
    lakehouse's own folders (``_locks``, ``_staging``, ``_state``)."""
    return join(cfg.lakehouse_uri, *parts)


def uri(cfg: Settings, layer: str, name: str) -> str:
    """``<lakehouse>/<layer>/<name>`` as an absolute URI."""
    return under(cfg, layer, name)


def written_by(job: str) -> tuple[Table, ...]:
    return tuple(t for t in CATALOGUE if t.writer == job)


def uris(cfg: Settings, *paths: str) -> dict[str, str]:
    """``{key: uri}`` of the catalogued tables ``layer/name``."""
    return {BY_PATH[p].key: BY_PATH[p].uri(cfg) for p in paths}


def writer_of(path: str) -> str:
    """The job that writes ``layer/name``; a table not in the catalogue belongs to the writer of its
    layer's first table."""
    if path in BY_PATH:
        return BY_PATH[path].writer
    return next(t.writer for t in CATALOGUE if t.layer == path.split("/")[0])
