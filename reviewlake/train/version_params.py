"""A model version's ``params.json`` as a typed record (:class:`VersionParams`): the model's shape
and serving signature, the training parameters and where training ran, and the lineage of the
gold tables it learnt from (with ``train.label_issues=drop`` gold/label_issues too, and the rows
it left out). Written through :func:`reviewlake.train.records.to_json`; read back by
serving (``reviewlake.text.serving.TextToIds``, ``reviewlake.train.champion.Scorer``), the model
card and notebooks/model_report.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reviewlake.text.ids import OOV_ID, PAD_ID
from reviewlake.train.data import GoldData, LabelIssuesUse
from reviewlake.train.horovod_spark import TrainResult
from reviewlake.train.model import WIDE_LINEAR
from reviewlake.train.params import TrainParams


@dataclass(frozen=True)
class TokenInput:
    """The SavedModel's token input."""

    signature: str
    name: str
    dtype: str
    shape: list[int | None]  # [None, max_len]
    pad_id: int
    oov_id: int


@dataclass(frozen=True)
class CharInputs:
    """``wide_lstm``'s char inputs: the features of the linear model saved at ``features``."""

    names: list[str]
    dtypes: list[str]
    shape: list[int | None]  # [None, char_len]
    features: str


@dataclass(frozen=True)
class Output:
    """The SavedModel's output."""

    name: str
    dtype: str
    shape: list[int | None]  # [None, n_classes]


@dataclass(frozen=True)
class VersionParams:
    """params.json (docs/training.md#export)."""

    version: str
    created_at: str
    max_len: int
    vocab_size: int
    n_classes: int
    labels: list[str]
    input: TokenInput
    char_inputs: CharInputs | None
    output: Output
    train: TrainParams
    num_proc: int
    train_rows_per_rank: int
    devices: list[str]
    resumed_from_epoch: int
    samples_per_s: float
    rows: dict[str, int]
    vocab_version: str
    tables: dict[str, str]
    table_versions: dict[str, int | None]
    label_issues: LabelIssuesUse
    run_id: str

    @classmethod
    def of(
        cls, version: str, gold: GoldData, params: TrainParams, result: TrainResult, char_len: int | None, run_id: str
    ) -> VersionParams:
        """The params of ``version``, trained by run ``run_id`` on ``gold`` (created now)."""
        n_classes = len(gold.class_names)
        return cls(
            version=version,
            created_at=datetime.now(UTC).isoformat(),
            max_len=gold.max_len,
            vocab_size=gold.vocab_size,
            n_classes=n_classes,
            labels=list(gold.class_names),
            input=TokenInput("serving_default", "token_ids", "int32", [None, gold.max_len], PAD_ID, OOV_ID),
            char_inputs=_char_inputs(char_len),
            output=Output("probabilities", "float32", [None, n_classes]),
            train=params,
            num_proc=result.world_size,
            train_rows_per_rank=result.train_rows_per_rank,
            devices=result.devices,
            resumed_from_epoch=result.resumed_from_epoch,
            samples_per_s=result.samples_per_s,
            rows=gold.rows(),
            vocab_version=gold.vocab_version,
            tables=dict(gold.tables),
            table_versions=dict(gold.table_versions),
            label_issues=gold.label_issues,
            run_id=run_id,
        )


def _char_inputs(char_len: int | None) -> CharInputs | None:
    if char_len is None:
        return None
    return CharInputs(["char_ids", "char_weights"], ["int32", "float32"], [None, char_len], f"linear/{WIDE_LINEAR}.npz")
