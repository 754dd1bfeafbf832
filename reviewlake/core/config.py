"""One configuration source: packaged YAML defaults, then the file named by ``$REVIEWLAKE_CONFIG``
(a site file every job of this environment reads), then ``--config FILE``, then ``--conf k=v``;
built once into the typed, immutable :class:`~reviewlake.core.settings.Settings` every job reads.
``$REVIEWLAKE_HOME``, when set, replaces the packaged default of ``home`` (the folder relative paths
are resolved against); a ``home`` in any file or ``--conf`` still wins over it.

Overrides name a key by its dotted path (``features.max_len=80``); values are parsed as YAML
scalars, so ``--conf train.epochs=5`` is an int and ``--conf quality.enabled=false`` a bool.
"""

from __future__ import annotations

import copy
import importlib.resources
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from reviewlake.core.settings import Settings, build
from reviewlake.errors import ConfigError

# Package data (the wheel and the --py-files zip carry it): read through importlib.resources, which
# also reads inside a zip, where a filesystem path would not exist.
PACKAGE_CONF = importlib.resources.files("reviewlake") / "conf"
DEFAULTS_FILE = PACKAGE_CONF / "reviewlake.yaml"
SITE_CONFIG_ENV = "REVIEWLAKE_CONFIG"
HOME_ENV = "REVIEWLAKE_HOME"  # the default of `home` (the Airflow DAG's reviewlake_home falls back to it too)
SPARK_CONF = "spark.conf."  # Spark keys keep their dots below spark.conf: spark.conf.spark.x.y=1


def load_config(
    path: str | os.PathLike | None = None, overrides: Iterable[str] = (), site: bool = True, resolve: bool = True
) -> Settings:
    """The defaults (``home`` from ``$REVIEWLAKE_HOME`` if set and ``site``) merged with the file
    named by ``$REVIEWLAKE_CONFIG`` (if set and ``site``), then the YAML file at ``path`` (if any),
    then ``key=value`` overrides; checked and typed once (:func:`reviewlake.core.settings.build`),
    so a mistake fails here with :class:`ConfigError`. Relative paths come back absolute against
    ``home`` (``resolve=False``: as written, for the configuration reference)."""
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8")) or {}
    if site and os.environ.get(HOME_ENV):
        data["home"] = os.environ[HOME_ENV]
    site_file = os.environ.get(SITE_CONFIG_ENV) if site else None
    if site_file:
        _merge(data, _read_file(site_file, f"config file (${SITE_CONFIG_ENV})"))
    if path:
        _merge(data, _read_file(path, "config file"))
    return build(_apply(data, overrides), resolve=resolve)


def override(settings: Settings, overrides: Iterable[str]) -> Settings:
    """New settings: ``settings`` with ``key=value`` overrides applied (checked like any load). Paths
    of ``settings`` are already absolute; a relative one in ``overrides`` resolves against its ``home``."""
    return build(_apply(settings.as_dict(), overrides))


def _apply(data: dict, overrides: Iterable[str]) -> dict:
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--conf expects key=value, got {item!r}")
        if key.startswith(SPARK_CONF):
            data.setdefault("spark", {}).setdefault("conf", {})[key[len(SPARK_CONF) :]] = yaml.safe_load(raw)
            continue
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--conf {key}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    return data


def _merge(base: dict, extra: Mapping) -> dict:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _read_file(path: str | os.PathLike, what: str) -> Mapping:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} not found: {path}")
    extra = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(extra, Mapping):
        raise ConfigError(f"{what} {path} must hold a mapping")
    return extra
