"""Listing plain local landing folders without Spark (stdlib only).

Hadoop's listing of a ``file:`` folder costs a py4j round trip per file (~12 ms: 12 s for 1,000
files on every run), so plain local inputs are listed with ``os.walk`` instead, giving the same
URIs, sizes and millisecond mtimes. Globs and other schemes go through Hadoop
(:func:`reviewlake.lake.ingest.list_files`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import NamedTuple


class ListedFile(NamedTuple):
    """A landing file as listed."""

    uri: str
    size: int  # bytes
    mtime_ms: int


PLAIN_LOCAL = re.compile(r"^file:(/[^/][^*?\[\]{}\\%]*|/)$")


def is_plain_local(uri: str) -> bool:
    """A ``file:`` URI naming one file or folder (no glob characters, no percent-escapes)."""
    return bool(PLAIN_LOCAL.match(uri))


def list_local(path: str, found: dict[str, ListedFile]) -> bool:
    """Add every file under the local file or folder ``path`` to ``found`` (keyed by URI);
    returns whether ``path`` exists."""
    if os.path.isfile(path):
        paths = [path]
    elif os.path.isdir(path):
        paths = [os.path.join(d, f) for d, _, files in os.walk(path, followlinks=True) for f in files]
    else:
        return False
    for p in paths:
        st = os.stat(p)
        uri = "file:" + os.path.normpath(p)
        found[uri] = ListedFile(uri, st.st_size, st.st_mtime_ns // 1_000_000)
    return True


def visible(found: dict[str, ListedFile]) -> list[ListedFile]:
    """The listed files, sorted, without hidden ones (``.x``, ``_x``), as Spark skips them."""
    return sorted(v for k, v in found.items() if not k.rsplit("/", 1)[-1].startswith((".", "_")))


def list_plain_local(uris: Iterable[str]) -> list[ListedFile] | None:
    """The visible files under ``uris`` when every one is a plain local URI that exists;
    None otherwise (the caller then lists through Hadoop, which also reports what is missing)."""
    found: dict[str, ListedFile] = {}
    for uri in uris:
        if not is_plain_local(uri) or not list_local(uri[len("file:") :], found):
            return None
    return visible(found)
