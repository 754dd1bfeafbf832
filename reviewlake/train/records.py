"""The JSON form of the training side's typed records (parameters, metrics): the files of a model
version (params.json, metrics.json) are written from dataclasses through :func:`to_json`.

A record's fields become its keys, in declaration order; a field declared with :data:`OMITTED_IF_NONE`
is left out while it is None (a key that only some records of a kind have); a record with its own
``to_json`` (one that flattens a part into its keys) is written by it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

OMITTED_IF_NONE = {"omitted_if_none": True}


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data: records and mappings as dicts, tuples and lists as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        own = getattr(value, "to_json", None)
        return own() if own is not None else fields_json(value)
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def fields_json(record: Any) -> dict[str, Any]:
    """A record's fields as a dict (what :func:`to_json` writes for a record without its own)."""
    out = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if value is None and f.metadata.get("omitted_if_none"):
            continue
        out[f.name] = to_json(value)
    return out
