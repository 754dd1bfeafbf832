"""One configuration source: packaged YAML defaults, then the file named by ``$REVIEWLAKE_CONFIG``
(a site file every job of this environment reads), then ``--config FILE``, then ``--conf k=v``.

Keys are dotted paths (``features.max_len``). Values given on the command line are parsed as
YAML scalars, so ``--conf train.epochs=5`` is an int and ``--conf quality.enabled=false`` a bool.
Local paths are turned into absolute ``file:`` URIs by :func:`to_uri`; ``hdfs:``/``s3a:`` pass as is.
"""

from __future__ import annotations

import copy
import importlib.resources
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from reviewlake.core.settings import validate
from reviewlake.errors import ConfigError

# Package data (the wheel and the --py-files zip carry it): read through importlib.resources, which
# also reads inside a zip, where a filesystem path would not exist.
PACKAGE_CONF = importlib.resources.files("reviewlake") / "conf"
DEFAULTS_FILE = PACKAGE_CONF / "reviewlake.yaml"
SITE_CONFIG_ENV = "REVIEWLAKE_CONFIG"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _merge(base: dict, extra: Mapping) -> dict:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


class Config:
    """Read-only view of the merged configuration with dotted-key access."""

    def __init__(self, data: dict):
        self._data = data

    def get(self, key: str, default: Any = None) -> Any:
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def __getitem__(self, key: str) -> Any:
        sentinel = object()
        value = self.get(key, sentinel)
        if value is sentinel:
            raise ConfigError(f"missing config key: {key}")
        return value

    def with_overrides(self, overrides: Iterable[str]) -> Config:
        """A new, validated Config with ``key=value`` overrides applied."""
        data = copy.deepcopy(self._data)
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep or not key:
                raise ConfigError(f"--conf expects key=value, got {item!r}")
            # Spark keys (spark.conf.spark.x.y) keep their dots below "spark.conf".
            if key.startswith("spark.conf."):
                data.setdefault("spark", {}).setdefault("conf", {})[key[len("spark.conf.") :]] = yaml.safe_load(raw)
                continue
            node = data
            parts = key.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"--conf {key}: {part} is not a section")
            node[parts[-1]] = yaml.safe_load(raw)
        return Config(validate(data))

    def as_dict(self) -> dict:
        return copy.deepcopy(self._data)


def _read_file(path: str | os.PathLike, what: str) -> Mapping:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} not found: {path}")
    extra = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(extra, Mapping):
        raise ConfigError(f"{what} {path} must hold a mapping")
    return extra


def load_config(path: str | os.PathLike | None = None, overrides: Iterable[str] = (), site: bool = True) -> Config:
    """Defaults, merged with the file named by ``$REVIEWLAKE_CONFIG`` (if set and ``site``), then
    the YAML file at ``path`` (if any), then ``key=value`` overrides; validated against the schema
    (:mod:`reviewlake.core.settings`), so a mistake fails here with :class:`ConfigError`."""
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8")) or {}
    site = os.environ.get(SITE_CONFIG_ENV) if site else None
    if site:
        _merge(data, _read_file(site, f"config file (${SITE_CONFIG_ENV})"))
    if path:
        _merge(data, _read_file(path, "config file"))
    return Config(data).with_overrides(overrides)


def to_uri(path_or_uri: str) -> str:
    """An absolute URI: ``hdfs://..``/``s3a://..``/``file:..`` unchanged, local paths as ``file:`` URIs."""
    if _SCHEME.match(path_or_uri) and not re.match(r"^[a-zA-Z]:[\\/]", path_or_uri):
        return path_or_uri.rstrip("/") if len(path_or_uri) > 8 else path_or_uri
    # "file:" + absolute path, not Path.as_uri(): percent-encoding would break globs (* ? [ ])
    return "file:" + str(Path(path_or_uri).expanduser().resolve())


def local_path(uri: str) -> Path:
    """The local path of a ``file:`` URI (or plain path); error for remote schemes."""
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(uri).path))
    if _SCHEME.match(uri):
        raise ConfigError(f"{uri} is not on the local filesystem")
    return Path(uri).expanduser().resolve()
