"""Storage locations as URIs: local paths become absolute ``file:`` URIs, ``hdfs:``/``s3a:`` (any
Hadoop scheme) pass as they are."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from reviewlake.errors import ConfigError

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_WINDOWS_DRIVE = re.compile(r"^[a-zA-Z]:[\\/]")


def to_uri(path_or_uri: str) -> str:
    """An absolute URI: ``hdfs://..``/``s3a://..``/``file:..`` unchanged (a trailing slash dropped),
    local paths as ``file:`` URIs resolved against the working directory."""
    if _SCHEME.match(path_or_uri) and not _WINDOWS_DRIVE.match(path_or_uri):
        return path_or_uri.rstrip("/") if len(path_or_uri) > 8 else path_or_uri
    # "file:" + absolute path, not Path.as_uri(): percent-encoding would break globs (* ? [ ])
    return "file:" + str(Path(path_or_uri).expanduser().resolve())


def local_path(uri: str) -> Path:
    """The local path of a ``file:`` URI (or plain path); :class:`ConfigError` for remote schemes."""
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    if _SCHEME.match(uri):
        raise ConfigError(f"{uri} is not on the local filesystem")
    return Path(uri).expanduser().resolve()


def under(base: str, path_or_uri: str) -> str:
    """``path_or_uri`` with a relative local path made absolute against the local folder ``base``
    (``~`` expanded); URIs (``hdfs:``, ``s3a:``, ``file:``, ``package:``), absolute paths and the
    empty string unchanged; a relative ``file:`` URI (``file:lake``) is made absolute too. A plain
    path stays a plain path (no ``file:``), globs stay globs."""
    if path_or_uri.startswith("file:") and not path_or_uri[5:].startswith("/"):
        return "file:" + under(base, path_or_uri[5:])
    if not path_or_uri or (_SCHEME.match(path_or_uri) and not _WINDOWS_DRIVE.match(path_or_uri)):
        return path_or_uri
    return os.path.normpath(os.path.join(base, os.path.expanduser(path_or_uri)))


def join(base: str, *parts: str) -> str:
    """``base/part/...`` for a URI ``base`` (no doubled slash)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])
