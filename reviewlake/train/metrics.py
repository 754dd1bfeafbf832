"""The figures a training run reports, as typed records: what a model version's ``metrics.json``
holds (:class:`Metrics`, written through :func:`reviewlake.train.records.to_json`) and its model
card reads. The arithmetic is reviewlake/train/evaluate.py's; these records name its results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reviewlake.train import evaluate
from reviewlake.train.data import LabelIssuesUse
from reviewlake.train.records import OMITTED_IF_NONE, fields_json, to_json


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Confusion:
    labels: list[str]
    matrix: list[list[int]]  # rows: true class, columns: predicted class, in class-id order


@dataclass(frozen=True)
class Classification:
    """One model's figures on one split (:func:`reviewlake.train.evaluate.classification_metrics`)."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion_matrix: Confusion
    n: int

    @classmethod
    def of(cls, y_true: Any, y_pred: Any, class_names: Sequence[str]) -> Classification:
        """The figures of class ids ``y_pred`` against ``y_true``."""
        return cls.of_figures(evaluate.classification_metrics(y_true, y_pred, class_names))

    @classmethod
    def of_figures(cls, m: dict[str, Any]) -> Classification:
        """The record of :func:`reviewlake.train.evaluate.classification_metrics`' result."""
        return cls(
            accuracy=m["accuracy"],
            macro_f1=m["macro_f1"],
            per_class={name: ClassScores(**c) for name, c in m["per_class"].items()},
            confusion_matrix=Confusion(**m["confusion_matrix"]),
            n=m["n"],
        )

    def summary_line(self) -> str:
        return f"accuracy={self.accuracy:.4f} macro_f1={self.macro_f1:.4f} n={self.n}"


@dataclass(frozen=True)
class LinearFit:
    """What a linear model's fit chose (:meth:`reviewlake.train.linear.Fitted.summary`)."""

    reg_param: float
    validation_accuracy: float
    features: int


@dataclass(frozen=True)
class Baseline:
    """A baseline's test figures: the majority class (``predicted_class``) or a linear model
    (``fit``). In JSON the figures and the baseline's own keys are side by side."""

    test: Classification
    predicted_class: str | None = None
    fit: LinearFit | None = None

    @classmethod
    def majority(cls, y_train: np.ndarray, y_test: np.ndarray, class_names: Sequence[str]) -> Baseline:
        """Always the majority class of the training labels (:func:`reviewlake.train.evaluate.majority_baseline`)."""
        m = evaluate.majority_baseline(y_train, y_test, class_names)
        return cls(Classification.of_figures(m), predicted_class=m["predicted_class"])

    def to_json(self) -> dict[str, Any]:
        own = {"predicted_class": self.predicted_class} if self.predicted_class is not None else {}
        return {**fields_json(self.test), **own, **(fields_json(self.fit) if self.fit is not None else {})}


@dataclass(frozen=True)
class Candidate:
    """A candidate model's test figures (:func:`reviewlake.train.evaluate.candidate_metrics`) and
    its validation accuracy (none for the majority class; an ensemble also has its weights)."""

    kind: str  # lstm | baseline | ensemble | majority
    accuracy: float
    macro_f1: float
    accuracy_ci95: list[float]
    macro_f1_ci95: list[float]
    ece: float
    validation_accuracy: float | None = field(default=None, metadata=OMITTED_IF_NONE)
    weights: dict[str, float] | None = field(default=None, metadata=OMITTED_IF_NONE)


@dataclass(frozen=True)
class ChampionChoice:
    """The candidates and the one chosen on validation (reviewlake/train/candidates.py); the keys
    metrics.json adds (docs/training.md)."""

    champion: str
    champion_members: dict[str, float]
    best_baseline: str
    mcnemar_p_vs_best_baseline: float
    candidates: dict[str, Candidate]
    reliability: dict[str, dict[str, list]]  # per candidate: evaluate.reliability's curve


@dataclass(frozen=True)
class Metrics:
    """A model version's ``metrics.json``: the champion's test figures at the top, then the choice,
    the LSTM's own figures, the baselines, the training history and what training did with
    gold/label_issues (``train.label_issues``: the rows dropped per split)."""

    model_version: str
    test: Classification  # the champion's
    choice: ChampionChoice
    lstm: Classification
    baselines: dict[str, Baseline]
    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int | None
    label_issues: LabelIssuesUse

    def to_json(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "split": "test",
            **fields_json(self.test),
            **fields_json(self.choice),
            "lstm": to_json(self.lstm),
            "baselines": to_json(self.baselines),
            "history": to_json(self.history),
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "label_issues": to_json(self.label_issues),
        }
