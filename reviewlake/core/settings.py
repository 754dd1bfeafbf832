"""The settings every job reads: one frozen dataclass per configuration section, built once from
the merged configuration by :func:`build` and read as typed attributes (``cfg.ingest.split_min_bytes``).

Defaults are not here: they live in one place, the packaged ``reviewlake/conf/reviewlake.yaml``,
which must hold every key of this schema (a test checks both ways). :func:`build` checks the merged
configuration once, when a job starts (``load_config``): an unknown key, a missing one, a value of
the wrong type or outside its allowed values stops the job with exit 2 and one line naming the key
and what it accepts. After it every value has its declared type, so no caller casts or defaults.
Path keys (``PATH``/``PATHS`` metadata: ``lakehouse``, ``models_dir``, ``reports_dir``, ``ingest.input``...)
come out absolute: :func:`build` makes ``home`` absolute against the working directory and every
relative local path absolute against ``home``, once; URIs and absolute paths pass unchanged. So
the settings name the same files whatever directory their reader runs in (``Settings.resolve``
does the same for a path given on the command line, ``--input``).

The objects are immutable: lists are tuples, and the free mappings (``spark.conf``,
``ingest.field_map``...) are :class:`FrozenMap`. Plain dataclasses rather than pydantic: the schema
needs only types, ranges and a few rules between keys, and pydantic reaches us only as a dependency
of Great Expectations, whose pins would then decide our validation library's version.

reviewlake/core/config_doc.py writes the configuration reference (docs/configuration.md) from it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from reviewlake.core.uris import local_path, to_uri, under
from reviewlake.errors import ConfigError

S = typing.TypeVar("S", bound="Section")
FREE = {"free": True}  # a mapping whose keys are the user's (spark.conf, field_map, ...)
# A local path or URI: a relative path is made absolute against ``home`` when the settings are built
# (PATHS: a comma-separated list of them).
PATH = {"path": "one"}
PATHS = {"path": "list"}
HOME = {"home": True}  # the local folder they are resolved against (itself against the working directory)


def rng(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> dict:
    return {"range": (lo, hi, lo_open)}


class FrozenMap(dict):
    """A read-only dict: the free mappings of the settings (``spark.conf``, ``ingest.field_map``...).
    Pickles (executors receive settings) and compares like a dict."""

    def _read_only(self, *args: Any, **kwargs: Any) -> typing.NoReturn:
        raise TypeError("settings are read-only once built")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only

    def __reduce__(self):
        return (FrozenMap, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))


class Section:
    """Base of every settings section."""

    def as_dict(self) -> dict[str, Any]:
        """The section as plain YAML-like data (lists and dicts): what :func:`section` reads."""
        return _plain(self)


@dataclass(frozen=True)
class Lock(Section):
    enabled: bool
    wait_s: float = field(metadata=rng(0))
    poll_s: float = field(metadata=rng(0, lo_open=True))
    stale_after_s: float = field(metadata=rng(0, lo_open=True))


@dataclass(frozen=True)
class Nightly(Section):
    train: bool
    isolated: bool
    spark_submit: str


@dataclass(frozen=True)
class Gpu(Section):
    enabled: bool
    amount_per_executor: int = field(metadata=rng(1))
    amount_per_task: float = field(metadata=rng(0, lo_open=True))
    discovery_script: str = field(metadata=PATH)


@dataclass(frozen=True)
class Spark(Section):
    master: str
    app_name: str
    jars_dir: str = field(metadata=PATH)
    log_level: Literal["ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN"]
    conf: FrozenMap = field(metadata=FREE)
    rows_per_partition: int = field(metadata=rng(1))
    gpu: Gpu


@dataclass(frozen=True)
class Lineage(Section):
    transport: Literal["file", "http", "off"]
    namespace: str
    url: str
    endpoint: str
    timeout_ms: int = field(metadata=rng(1))


@dataclass(frozen=True)
class Ingest(Section):
    input: str = field(metadata=PATHS)
    format: Literal["auto", "jsonl", "csv", "parquet", "txt"]
    encoding: str
    csv_header: bool | Literal["auto"]
    csv_columns: tuple[str, ...]
    csv_quoted_newlines: bool
    max_record_bytes: int = field(metadata=rng(1))
    split_min_bytes: int = field(metadata=rng(1))
    max_inflated_bytes: int = field(metadata=rng(1))
    max_inflation_ratio: float = field(metadata=rng(1))
    inflation_grace_bytes: int = field(metadata=rng(0))
    field_map: FrozenMap = field(metadata=FREE)
    label_from_filename: FrozenMap = field(metadata=FREE)
    source: str

    @property
    def inputs(self) -> list[str]:
        """``input`` as a list (it holds comma-separated files, folders or globs)."""
        return [s.strip() for s in self.input.split(",") if s.strip()]

    def inflation_limit(self, stored: int, held: bool = True) -> int:
        """The most bytes a compressed stream of ``stored`` bytes may inflate to:
        ``max_inflation_ratio`` times its size, or ``inflation_grace_bytes`` if that is more, and
        where the inflated bytes are held whole in memory (``held``: a file read whole, a zip
        member), at most ``max_inflated_bytes``."""
        by_ratio = max(self.inflation_grace_bytes, int(stored * self.max_inflation_ratio))
        return min(by_ratio, self.max_inflated_bytes) if held else by_ratio


@dataclass(frozen=True)
class Labels(Section):
    classes: tuple[str, ...]
    from_rating: FrozenMap = field(metadata=FREE)


@dataclass(frozen=True)
class Clean(Section):
    rules: tuple[str, ...]
    opencc_config: str
    emotes: Literal["unwrap", "drop"]
    max_char_run: int = field(metadata=rng(1))
    max_phrase_repeats: int = field(metadata=rng(1))
    min_chars: int = field(metadata=rng(0))
    max_chars: int = field(metadata=rng(1))
    min_cjk_ratio: float = field(metadata=rng(0, 1))
    strip_patterns: tuple[str, ...]
    boilerplate_patterns: tuple[str, ...]
    system_default_patterns: str
    incentive_patterns: str
    keep_languages: tuple[str, ...]
    min_foreign_share: float = field(metadata=rng(0, 1))


@dataclass(frozen=True)
class Dedupe(Section):
    near: bool
    threshold: float = field(metadata=rng(0, 1, lo_open=True))
    ngram: int = field(metadata=rng(1))
    max_perm: int = field(metadata=rng(1))
    min_recall: float = field(metadata=rng(0, 1, lo_open=True))
    near_min_chars: int = field(metadata=rng(0))
    local_components_max_edges: int = field(metadata=rng(0))
    local_max_rows: int = field(metadata=rng(0))
    seed: int
    label_conflict_policy: Literal["majority", "survivor", "drop"]


@dataclass(frozen=True)
class Signals(Section):
    rep_ngram: int = field(metadata=rng(1))
    min_cjk_share: float = field(metadata=rng(0, 1))
    max_special_char_share: float = field(metadata=rng(0, 1))
    max_char_rep_ratio: float = field(metadata=rng(0, 1))
    template_min: int = field(metadata=rng(1))


@dataclass(frozen=True)
class Silver(Section):
    deletion_vectors: bool
    rows_per_file: int = field(metadata=rng(1))
    max_replaced_rows: int = field(metadata=rng(0))


@dataclass(frozen=True)
class Segment(Section):
    user_dict: str = field(metadata=PATH)
    stopwords: str = field(metadata=PATH)
    hmm: bool
    backend: Literal["jieba", "jieba_c"]


@dataclass(frozen=True)
class Split(Section):
    train: float = field(metadata=rng(0))
    validation: float = field(metadata=rng(0))
    test: float = field(metadata=rng(0))


@dataclass(frozen=True)
class Features(Section):
    vocab_size: int = field(metadata=rng(1))
    min_df: int = field(metadata=rng(1))
    max_len: int | Literal["auto"] = field(metadata=rng(1))
    max_len_percentile: Literal[50, 90, 95, 99]
    max_len_cap: int = field(metadata=rng(1))
    split: Split
    seed: int


@dataclass(frozen=True)
class Gate(Section):
    min_rows: int = field(metadata=rng(0))


@dataclass(frozen=True)
class Quality(Section):
    enabled: bool
    data_docs: bool
    pandas_max_rows: int = field(metadata=rng(0))
    bronze: Gate
    silver: Gate
    gold: Gate


@dataclass(frozen=True)
class Train(Section):
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
    cnn_widths: tuple[int, ...]
    dropout: float = field(metadata=rng(0, 1))
    class_weight: Literal["balanced", "none"]
    seed: int
    patience: int = field(metadata=rng(0))
    char_len: int = field(metadata=rng(1))
    start_timeout: int = field(metadata=rng(1))
    version: str
    tfidf_baseline: bool
    logreg_max_iter: int = field(metadata=rng(1))
    logreg_reg_params: tuple[float, ...] | float
    logreg_reg_param: float | None  # deprecated single value; wins over logreg_reg_params when set
    label_issues: Literal["keep", "drop"]  # drop: gold/label_issues' rows out of train and validation


@dataclass(frozen=True)
class Score(Section):
    model_version: str
    batch_size: int = field(metadata=rng(1))
    tf_threads: int = field(metadata=rng(1))


@dataclass(frozen=True)
class LabelIssues(Section):
    folds: int = field(metadata=rng(2))
    seed: int
    reg_param: float = field(metadata=rng(0))
    max_iter: int = field(metadata=rng(1))
    filter_by: Literal[
        "prune_by_noise_rate",
        "prune_by_class",
        "both",
        "confident_learning",
        "predicted_neq_given",
        "low_normalized_margin",
        "low_self_confidence",
    ]
    rank_by: Literal["self_confidence", "normalized_margin", "confidence_weighted_entropy"]
    max_driver_rows: int = field(metadata=rng(1))


@dataclass(frozen=True)
class Maintenance(Section):
    optimize: bool
    vacuum: bool
    vacuum_retention_hours: float = field(metadata=rng(0))
    vacuum_list_parallelism: int = field(metadata=rng(1))
    zorder: FrozenMap = field(metadata=FREE)


@dataclass(frozen=True)
class Settings(Section):
    """The whole configuration, validated (see the module doc)."""

    home: str = field(metadata=HOME)  # absolute once built
    lakehouse: str = field(metadata=PATH)
    reports_dir: str = field(metadata=PATH)
    models_dir: str = field(metadata=PATH)
    lock: Lock
    nightly: Nightly
    spark: Spark
    lineage: Lineage
    ingest: Ingest
    labels: Labels
    clean: Clean
    dedupe: Dedupe
    signals: Signals
    segment: Segment
    silver: Silver
    features: Features
    quality: Quality
    train: Train
    score: Score
    label_issues: LabelIssues
    maintenance: Maintenance

    @property
    def lakehouse_uri(self) -> str:
        """``lakehouse`` as an absolute URI (a local path is already absolute: see ``home``)."""
        return to_uri(self.lakehouse)

    def resolve(self, path_or_uri: str) -> str:
        """A path given outside the settings (``--input``) resolved like a path key: a relative
        local path against ``home``, anything else unchanged."""
        return under(self.home, path_or_uri)

    @property
    def reports_path(self) -> Path:
        """The local folder of run reports and Data Docs."""
        return local_path(to_uri(self.reports_dir))

    @property
    def models_path(self) -> Path:
        """The local folder of model versions."""
        return local_path(to_uri(self.models_dir))


# ----------------------------------------------------------------------------- building and checking
def build(data: Mapping[str, Any], *, resolve: bool = True) -> Settings:
    """The :class:`Settings` of the merged configuration ``data``, every value checked and typed;
    :class:`ConfigError` naming the first key that is missing, unknown or not allowed.

    With ``resolve`` (always, but for the configuration reference), ``home`` becomes an absolute
    path (a relative one against the working directory now) and every path key (``PATH``) that is
    a relative local path becomes absolute against it: the settings then name the same files
    whatever the working directory of whoever reads them later (a scheduler's worker, executors)."""
    settings = _section("", data, Settings)
    _check_relations(settings)
    return resolve_paths(settings) if resolve else settings


def resolve_paths(settings: Settings) -> Settings:
    """``settings`` with ``home`` absolute and every relative path key made absolute against it."""
    try:
        home = str(local_path(to_uri(settings.home or ".")))
    except ConfigError as exc:
        raise ConfigError(f"config key home: {settings.home!r} must be a local folder ({exc})") from None
    return dataclasses.replace(_under_home(settings, home), home=home)


def _under_home(sec: Any, home: str) -> Any:
    changes = {}
    for f in dataclasses.fields(sec):
        value, kind = getattr(sec, f.name), f.metadata.get("path")
        if dataclasses.is_dataclass(value):
            changes[f.name] = _under_home(value, home)
        elif kind == "one":
            changes[f.name] = under(home, value)
        elif kind == "list":
            changes[f.name] = ",".join(under(home, p.strip()) for p in value.split(",") if p.strip())
    return dataclasses.replace(sec, **changes)


def section(cls: type[S], data: Any, prefix: str = "") -> S:
    """One section ``cls`` built from its plain ``data`` (e.g. one that a model version saved),
    checked like the whole configuration; ``prefix`` (``clean.``) names its keys in errors."""
    return _section(prefix, data, cls)


def _section(prefix: str, data: Any, cls: type) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key {prefix.rstrip('.') or '<root>'}: expected a section (mapping), got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix}{unknown[0]} (known in {prefix.rstrip('.') or 'the top level'}: "
            f"{', '.join(sorted(fields))})"
        )
    values = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in data:
            raise ConfigError(f"config key {key} is missing (the packaged defaults must set every key)")
        if dataclasses.is_dataclass(hints[name]):
            values[name] = _section(key + ".", data[name], hints[name])
        else:
            values[name] = _coerce(key, data[name], hints[name])
            _check_range(key, values[name], f.metadata)
    return cls(**values)


def _check_relations(s: Settings) -> None:
    """Rules between keys that no single type can state."""
    if s.features.split.train + s.features.split.validation + s.features.split.test <= 0:
        raise ConfigError("config key features.split: the ratios must sum to more than 0")
    if s.clean.min_chars > s.clean.max_chars:
        raise ConfigError("config keys clean.min_chars > clean.max_chars: no text could pass")
    if s.lineage.transport == "http" and not s.lineage.url:
        raise ConfigError("config key lineage.url: lineage.transport http needs the catalogue's URL")
    if s.lineage.transport != "off" and not s.lineage.namespace:
        raise ConfigError("config key lineage.namespace: empty (the OpenLineage namespace of every job)")
    if not s.labels.classes:
        raise ConfigError("config key labels.classes: at least one class")
    unknown = sorted({str(v) for v in s.labels.from_rating.values()} - set(s.labels.classes))
    if unknown:
        raise ConfigError(f"config key labels.from_rating: {unknown} not in labels.classes {list(s.labels.classes)}")
    if s.train.architecture == "wide_lstm" and not s.train.tfidf_baseline:
        raise ConfigError(
            "config key train.architecture: wide_lstm starts from the char_1_4gram linear model, "
            "which train.tfidf_baseline=false does not fit (set it true or pick another architecture)"
        )
    if s.train.logreg_reg_params == ():
        raise ConfigError("config key train.logreg_reg_params holds no value")


def _bad(key: str, value: Any, tp: Any) -> ConfigError:
    return ConfigError(f"config key {key}: {value!r} is not allowed (expected {describe(tp)})")


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """``value`` as type ``tp``, or ConfigError naming ``key`` and what it accepts."""
    origin = typing.get_origin(tp)
    coerce = _BY_ORIGIN.get(origin) if origin is not None else _BY_TYPE.get(tp)
    if coerce is None:
        raise _bad(key, value, tp)
    return coerce(key, value, tp)


def _literal(key: str, value: Any, tp: Any) -> Any:
    if value is False and "off" in typing.get_args(tp):  # YAML 1.1 reads a bare `off` as false
        return "off"
    for allowed in typing.get_args(tp):
        if value == allowed and type(value) is type(allowed):
            return allowed
        if isinstance(allowed, str) and isinstance(value, str) and value.lower() == allowed.lower():
            return allowed
    raise _bad(key, value, tp)


def _union(key: str, value: Any, tp: Any) -> Any:
    args = typing.get_args(tp)
    if value is None and type(None) in args:
        return None
    for member in (a for a in args if a is not type(None)):
        try:
            return _coerce(key, value, member)
        except ConfigError:
            continue
    raise _bad(key, value, tp)


def _sequence(key: str, value: Any, tp: Any) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise _bad(key, value, tp)
    item = typing.get_args(tp)[0]
    return tuple(_coerce(f"{key}[{i}]", v, item) for i, v in enumerate(value))


def _mapping(key: str, value: Any, tp: Any) -> FrozenMap:
    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise _bad(key, value, tp)
    return _freeze(value)


def _scalar(key: str, value: Any, tp: Any) -> Any:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    allowed = {
        bool: isinstance(value, bool),
        int: number and float(value).is_integer(),
        float: number,
        str: number or isinstance(value, str),
    }[tp]
    if not allowed:
        raise _bad(key, value, tp)
    return tp(value)


_BY_ORIGIN = {Literal: _literal, Union: _union, types.UnionType: _union, tuple: _sequence}
_BY_TYPE = {FrozenMap: _mapping, bool: _scalar, int: _scalar, float: _scalar, str: _scalar}


def _freeze(value: Any) -> Any:
    """Lists as tuples, mappings as :class:`FrozenMap`, all the way down."""
    if isinstance(value, Mapping):
        return FrozenMap({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """The inverse of building: dataclasses and mappings as dicts, tuples as lists."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _check_range(key: str, value: Any, meta: Mapping) -> None:
    if "range" not in meta or isinstance(value, (str, bool)) or value is None:
        return
    lo, hi, lo_open = meta["range"]
    for v in value if isinstance(value, tuple) else [value]:
        if (lo is not None and (v < lo or (lo_open and v == lo))) or (hi is not None and v > hi):
            raise ConfigError(f"config key {key}: {v!r} is out of range (must be {bounds(meta)})")


def bounds(meta: Mapping) -> str:
    """A field's range as a reader would write it (``> 0 and <= 1``); empty without one."""
    if "range" not in meta:
        return ""
    lo, hi, lo_open = meta["range"]
    parts = ([f"{'>' if lo_open else '>='} {lo:g}"] if lo is not None else []) + (
        [f"<= {hi:g}"] if hi is not None else []
    )
    return " and ".join(parts)


# ----------------------------------------------------------------------------- describing the schema
def describe(tp: Any) -> str:
    """The accepted values of a type, as a reader would write them."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return " | ".join(str(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join("null" if a is type(None) else describe(a) for a in args)
    if origin is tuple:
        return f"list of {describe(args[0])}"
    if tp is FrozenMap:
        return "mapping"
    return {bool: "true/false", int: "integer", float: "number", str: "text"}.get(tp, getattr(tp, "__name__", str(tp)))


def keys(cls: type = Settings, prefix: str = "") -> list[tuple[str, Any, Mapping]]:
    """Every leaf key of the schema: (dotted key, type, field metadata)."""
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out += keys(tp, f"{prefix}{f.name}.")
        else:
            out.append((prefix + f.name, tp, f.metadata))
    return out
