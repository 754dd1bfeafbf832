"""Skip a scheduled run that has nothing to do, before Spark starts.

A run with nothing new still costs ~20 s on a small box just to start a Spark session, open the
Delta tables and read the file log. So after each successful run a job records what it saw, in
``<lakehouse>/_state/<job>.json``: the landing listing (path, size, mtime of every file), the
Delta version of each of its tables after the run, and a digest of its configuration. The next
run compares the same three things, computed with plain file-system calls, and returns early
when all are equal: the landing folder has not changed, nobody wrote the tables, and the
settings are the same, so the full path would find no unseen file and nothing to rebuild.

Anything else takes the full path: a missing or unreadable state file, a remote input or
lakehouse (``hdfs:``, ``s3a:``, globs), ``--full``/``--batch``/``--since``, any difference.
The state file is written last, atomically, and only after a run succeeded; a state file left
behind by an older run can only disagree with the tables (their versions moved) and so never
skips work that is due.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from reviewlake.core import tables
from reviewlake.core.listing import is_plain_local, list_plain_local
from reviewlake.core.settings import Settings
from reviewlake.core.uris import local_path, to_uri

log = logging.getLogger(__name__)

# Keys that do not change what a job computes (where reports go, logging, the lock, the folder
# relative paths were resolved against: the resolved paths themselves are in the digest).
_NEUTRAL_KEYS = ("home", "reports_dir", "lock", "nightly")
_COMMIT = re.compile(r"^(\d{20})\.json$")


def delta_version(table_uri: str) -> int | None:
    """The latest committed version of a local Delta table (the highest ``_delta_log/<n>.json``),
    or None when there is no table there. Log cleanup keeps the latest commit file."""
    try:
        names = os.listdir(local_path(table_uri) / "_delta_log")
    except (FileNotFoundError, NotADirectoryError):
        return None
    versions = [int(m.group(1)) for m in map(_COMMIT.match, names) if m]
    return max(versions) if versions else None


def config_digest(cfg: Settings) -> str:
    data = {k: v for k, v in cfg.as_dict().items() if k not in _NEUTRAL_KEYS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def listing_digest(inputs: Sequence[str]) -> str | None:
    """Digest of the landing listing, or None when an input is not a plain local file/folder
    that exists (those are listed through Hadoop by the job itself)."""
    files = list_plain_local([to_uri(i) for i in inputs])
    if files is None:
        return None
    h = hashlib.sha256()
    for uri, size, mtime in files:
        h.update(f"{uri}\0{size}\0{mtime}\n".encode())
    return f"{len(files)}:{h.hexdigest()}"


class RunState:
    """What ``job`` saw at the start of a run (listing, config) plus its tables after it."""

    def __init__(self, cfg: Settings, job: str, inputs: Sequence[str], table_uris: Mapping[str, str]):
        self.job, self.tables = job, dict(table_uris)
        lakehouse = cfg.lakehouse_uri
        self.usable = is_plain_local(lakehouse) and all(is_plain_local(u) for u in self.tables.values())
        self.path = local_path(tables.under(cfg, "_state", f"{job}.json")) if self.usable else None
        self.inputs = sorted(to_uri(i) for i in inputs)
        self.listing = listing_digest(self.inputs) if self.usable else None
        self.config = config_digest(cfg)
        self.usable = self.usable and self.listing is not None

    def _versions(self) -> dict[str, int | None]:
        return {name: delta_version(uri) for name, uri in sorted(self.tables.items())}

    def _current(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "inputs": self.inputs,
            "listing": self.listing,
            "config": self.config,
            "tables": self._versions(),
        }

    def unchanged(self) -> dict[str, Any] | None:
        """The recorded state when nothing changed since the last successful run, else None."""
        if not self.usable:
            return None
        try:
            recorded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        now = self._current()
        if any(recorded.get(k) != v for k, v in now.items()):
            return None
        if any(v is None for v in now["tables"].values()):
            return None
        return recorded

    def record(self, run_id: str) -> None:
        """After a successful run: the start-of-run listing and config, the tables' versions now."""
        if not self.usable:
            return
        state = dict(self._current(), run_id=run_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
        log.debug("run state recorded in %s", self.path)
