"""What training reads, by name: per split (``train``, ``validation``, ``test``) the rows' named
arrays (:class:`SplitInputs`, what the network reads and must answer) and, for the linear models,
silver's text and tokens of the same rows (:class:`SplitText`); with the vocabulary, the classes and
the lineage of the gold tables they came from (:class:`GoldData`). Pure numpy: the driver builds
them (reviewlake/train/gold.py) and the Horovod ranks receive :class:`SplitInputs` as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from reviewlake.train.model import INPUT_NAMES, model_inputs

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitInputs:
    """One split's rows in gold's order (by ``review_id``): the network's inputs (``token_ids``
    [n, max_len] int32; for ``wide_lstm`` also ``char_ids`` [n, char_len] int32 and ``char_weights``
    [n, char_len] float32), the class ids ``labels`` [n] and the ``review_ids`` [n]."""

    review_ids: np.ndarray
    labels: np.ndarray
    token_ids: np.ndarray
    char_ids: np.ndarray | None = None
    char_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def rows(self, index: np.ndarray) -> SplitInputs:
        """The rows at ``index`` (every array taken alike)."""
        return SplitInputs(**{name: a[index] if a is not None else None for name, a in self._arrays().items()})

    def with_chars(self, char_ids: np.ndarray, char_weights: np.ndarray) -> SplitInputs:
        """These rows with ``wide_lstm``'s char inputs."""
        return dataclasses.replace(self, char_ids=char_ids, char_weights=char_weights)

    def named(self) -> dict[str, np.ndarray]:
        """The network's inputs present, by input name (:data:`reviewlake.train.model.INPUT_NAMES`)."""
        return {name: getattr(self, name) for name in INPUT_NAMES if getattr(self, name) is not None}

    def model_inputs(self, architecture: str) -> Any:
        """What ``model.fit``/``predict`` take for ``architecture``."""
        return model_inputs(self.named(), architecture)

    def _arrays(self) -> dict[str, np.ndarray | None]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class SplitText:
    """silver.reviews' cleaned ``text`` and jieba ``tokens`` of one split's rows, in gold's order."""

    text: list[Any]
    tokens: list[Any]

    def column(self, name: str) -> list[Any]:
        """The silver column a linear model reads (:attr:`reviewlake.train.linear.LinearTextModel.column`)."""
        return {"text": self.text, "tokens": self.tokens}[name]


@dataclass(frozen=True)
class LabelIssuesUse:
    """What a run did with gold/label_issues (``train.label_issues``; metrics.json and params.json
    ``label_issues``): the ``mode``, the rows ``dropped`` per split (all 0 with ``keep``; ``test``
    always 0), and with ``drop`` the queue's ``table_version`` read and the gold/features version it
    was built from (reviewlake/train/label_drop.py)."""

    mode: Literal["keep", "drop"]
    dropped: dict[str, int]
    table_version: int | None = None
    features_version: int | None = None


@dataclass(frozen=True)
class GoldData:
    """gold.features, gold.vocab and gold.labels on the driver, checked (reviewlake/train/gold.py):
    ``splits`` by split name (without the rows ``label_issues`` says were dropped); ``text`` by
    split name when silver's text was read with them."""

    splits: Mapping[str, SplitInputs]
    max_len: int
    vocab_size: int
    class_names: list[str]
    vocab_lines: list[str]
    vocab_version: str
    tables: Mapping[str, str]  # {short name: uri} of the gold tables read
    table_versions: Mapping[str, int | None]
    label_issues: LabelIssuesUse
    text: Mapping[str, SplitText] | None = None

    @property
    def train(self) -> SplitInputs:
        return self.splits["train"]

    @property
    def validation(self) -> SplitInputs:
        return self.splits["validation"]

    @property
    def test(self) -> SplitInputs:
        return self.splits["test"]

    def rows(self) -> dict[str, int]:
        return {s: len(self.splits[s]) for s in SPLITS}
