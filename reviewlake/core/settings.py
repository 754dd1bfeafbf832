"""The configuration schema: every key, its type and its allowed values, one dataclass per section.

Defaults are not here: they live in one place, the packaged ``reviewlake/conf/reviewlake.yaml``,
which must hold every key of this schema (a test checks both ways). :func:`validate` runs once, on
the merged configuration, when a job starts (``load_config``): an unknown key, a missing one, a
value of the wrong type or outside its allowed values stops the job with exit 2 and one line
naming the key and what it accepts. After it, every value read through :class:`Config` has its
declared type, so no caller casts.

reviewlake/core/config_doc.py writes the configuration reference (docs/configuration.md) from it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from reviewlake.errors import ConfigError

FREE = {"free": True}  # a mapping whose keys are the user's (spark.conf, field_map, ...)


def rng(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> dict:
    return {"range": (lo, hi, lo_open)}


@dataclass(frozen=True)
class Lock:
    enabled: bool
    wait_s: float = field(metadata=rng(0))
    poll_s: float = field(metadata=rng(0, lo_open=True))
    stale_after_s: float = field(metadata=rng(0, lo_open=True))


@dataclass(frozen=True)
class Nightly:
    train: bool
    isolated: bool
    spark_submit: str


@dataclass(frozen=True)
class Gpu:
    enabled: bool
    amount_per_executor: int = field(metadata=rng(1))
    amount_per_task: float = field(metadata=rng(0, lo_open=True))
    discovery_script: str


@dataclass(frozen=True)
class Spark:
    master: str
    app_name: str
    jars_dir: str
    log_level: Literal["ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN"]
    conf: dict = field(metadata=FREE)
    gpu: Gpu


@dataclass(frozen=True)
class Ingest:
    input: str
    format: Literal["auto", "jsonl", "csv", "parquet", "txt"]
    encoding: str
    csv_header: bool | Literal["auto"]
    csv_columns: list[str]
    csv_quoted_newlines: bool
    max_record_bytes: int = field(metadata=rng(1))
    split_min_bytes: int = field(metadata=rng(1))
    field_map: dict = field(metadata=FREE)
    label_from_filename: dict = field(metadata=FREE)
    source: str


@dataclass(frozen=True)
class Labels:
    classes: list[str]
    from_rating: dict = field(metadata=FREE)


@dataclass(frozen=True)
class Clean:
    rules: list[str]
    opencc_config: str
    emotes: Literal["unwrap", "drop"]
    max_char_run: int = field(metadata=rng(1))
    max_phrase_repeats: int = field(metadata=rng(1))
    min_chars: int = field(metadata=rng(0))
    max_chars: int = field(metadata=rng(1))
    min_cjk_ratio: float = field(metadata=rng(0, 1))
    strip_patterns: list[str]
    boilerplate_patterns: list[str]


@dataclass(frozen=True)
class Dedupe:
    near: bool
    threshold: float = field(metadata=rng(0, 1, lo_open=True))
    ngram: int = field(metadata=rng(1))
    max_perm: int = field(metadata=rng(1))
    min_recall: float = field(metadata=rng(0, 1, lo_open=True))
    near_min_chars: int = field(metadata=rng(0))
    local_components_max_edges: int = field(metadata=rng(0))
    seed: int
    label_conflict_policy: Literal["majority", "survivor", "drop"]


@dataclass(frozen=True)
class Segment:
    user_dict: str
    stopwords: str
    hmm: bool
    backend: Literal["jieba", "jieba_c"]


@dataclass(frozen=True)
class Split:
    train: float = field(metadata=rng(0))
    validation: float = field(metadata=rng(0))
    test: float = field(metadata=rng(0))


@dataclass(frozen=True)
class Features:
    vocab_size: int = field(metadata=rng(1))
    min_df: int = field(metadata=rng(1))
    max_len: int | Literal["auto"] = field(metadata=rng(1))
    max_len_percentile: Literal[50, 90, 95, 99]
    max_len_cap: int = field(metadata=rng(1))
    split: Split
    seed: int


@dataclass(frozen=True)
class Gate:
    min_rows: int = field(metadata=rng(0))


@dataclass(frozen=True)
class Quality:
    enabled: bool
    data_docs: bool
    bronze: Gate
    silver: Gate
    gold: Gate


@dataclass(frozen=True)
class Train:
    num_proc: int = field(metadata=rng(1))
    architecture: Literal["wide_lstm", "lstm", "bilstm", "cnn"]
    epochs: int = field(metadata=rng(1))
    batch_size: int = field(metadata=rng(1))
    learning_rate: float = field(metadata=rng(0, lo_open=True))
    warmup_epochs: int = field(metadata=rng(0))
    clip_norm: float | None = field(metadata=rng(0, lo_open=True))
    embedding_dim: int = field(metadata=rng(1))
    lstm_units: int = field(metadata=rng(1))
    cnn_filters: int = field(metadata=rng(1))
    cnn_widths: list[int]
    dropout: float = field(metadata=rng(0, 1))
    class_weight: Literal["balanced", "none"]
    seed: int
    patience: int = field(metadata=rng(0))
    char_len: int = field(metadata=rng(1))
    start_timeout: int = field(metadata=rng(1))
    version: str
    tfidf_baseline: bool
    logreg_max_iter: int = field(metadata=rng(1))
    logreg_reg_params: list[float] | float
    logreg_reg_param: float | None  # deprecated single value; wins over logreg_reg_params when set


@dataclass(frozen=True)
class Score:
    model_version: str
    batch_size: int = field(metadata=rng(1))
    tf_threads: int = field(metadata=rng(1))


@dataclass(frozen=True)
class Maintenance:
    optimize: bool
    vacuum: bool
    vacuum_retention_hours: float = field(metadata=rng(0))
    vacuum_list_parallelism: int = field(metadata=rng(1))
    zorder: dict = field(metadata=FREE)


@dataclass(frozen=True)
class Settings:
    lakehouse: str
    reports_dir: str
    models_dir: str
    lock: Lock
    nightly: Nightly
    spark: Spark
    ingest: Ingest
    labels: Labels
    clean: Clean
    dedupe: Dedupe
    segment: Segment
    features: Features
    quality: Quality
    train: Train
    score: Score
    maintenance: Maintenance


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def describe(tp: Any) -> str:
    """The accepted values of a type, as a reader would write them."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return " | ".join(str(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join("null" if a is type(None) else describe(a) for a in args)
    if origin is list:
        return f"list of {describe(args[0])}"
    if tp is dict:
        return "mapping"
    return {bool: "true/false", int: "integer", float: "number", str: "text"}.get(tp, getattr(tp, "__name__", str(tp)))


def _check_range(key: str, value: Any, meta: Mapping) -> None:
    if "range" not in meta or isinstance(value, (str, bool)) or value is None:
        return
    lo, hi, lo_open = meta["range"]
    for v in value if isinstance(value, list) else [value]:
        if (lo is not None and (v < lo or (lo_open and v == lo))) or (hi is not None and v > hi):
            bounds = f"{'>' if lo_open else '>='} {lo:g}" if lo is not None else ""
            bounds += (" and " if bounds and hi is not None else "") + (f"<= {hi:g}" if hi is not None else "")
            raise ConfigError(f"config key {key}: {v!r} is out of range (must be {bounds})")


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """``value`` as type ``tp``, or ConfigError naming ``key`` and what it accepts."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    bad = ConfigError(f"config key {key}: {value!r} is not allowed (expected {describe(tp)})")
    if origin is Literal:
        for a in args:
            if value == a and type(value) is type(a):
                return a
            if isinstance(a, str) and isinstance(value, str) and value.lower() == a.lower():
                return a
        raise bad
    if origin in (Union, types.UnionType):
        for a in sorted(args, key=lambda a: a is type(None)):
            if a is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(key, value, a)
            except ConfigError:
                pass
        raise bad
    if origin is list:
        if not isinstance(value, list):
            raise bad
        return [_coerce(f"{key}[{i}]", v, args[0]) for i, v in enumerate(value)]
    if tp is dict:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise bad
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise bad
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise bad
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad
    raise bad


def _validate(prefix: str, data: Any, cls) -> dict:
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key {prefix.rstrip('.') or '<root>'}: expected a section (mapping), got {data!r}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix}{unknown[0]} (known in {prefix.rstrip('.') or 'the top level'}: "
            f"{', '.join(sorted(fields))})"
        )
    out = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in data:
            raise ConfigError(f"config key {key} is missing (the packaged defaults must set every key)")
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            out[name] = _validate(key + ".", data[name], tp)
        else:
            value = _coerce(key, data[name], tp)
            _check_range(key, value, f.metadata)
            out[name] = value
    return out


def _check_relations(data: dict) -> None:
    """Rules between keys that no single type can state."""
    split = data["features"]["split"]
    if sum(split.values()) <= 0:
        raise ConfigError("config key features.split: the ratios must sum to more than 0")
    if data["clean"]["min_chars"] > data["clean"]["max_chars"]:
        raise ConfigError("config keys clean.min_chars > clean.max_chars: no text could pass")
    if not data["labels"]["classes"]:
        raise ConfigError("config key labels.classes: at least one class")
    unknown = sorted({str(v) for v in data["labels"]["from_rating"].values()} - set(data["labels"]["classes"]))
    if unknown:
        raise ConfigError(f"config key labels.from_rating: {unknown} not in labels.classes {data['labels']['classes']}")
    if data["train"]["architecture"] == "wide_lstm" and not data["train"]["tfidf_baseline"]:
        raise ConfigError(
            "config key train.architecture: wide_lstm starts from the char_1_4gram linear model, "
            "which train.tfidf_baseline=false does not fit (set it true or pick another architecture)"
        )
    grid = data["train"]["logreg_reg_params"]
    if isinstance(grid, list) and not grid:
        raise ConfigError("config key train.logreg_reg_params holds no value")


def validate(data: Mapping) -> dict:
    """The merged configuration with every value checked and typed (a new dict)."""
    out = _validate("", data, Settings)
    _check_relations(out)
    return out


def keys(cls=Settings, prefix: str = "") -> list[tuple[str, Any, Mapping]]:
    """Every leaf key of the schema: (dotted key, type, field metadata)."""
    out = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out += keys(tp, f"{prefix}{f.name}.")
        else:
            out.append((prefix + f.name, tp, f.metadata))
    return out
