"""The candidates for a version's model and the choice among them (docs/training.md): each model
scored (the LSTM, the linear models), with more than one an ensemble weighted on validation
(reviewlake/train/champion.py); the champion is the best on validation; every candidate's test
figures (bootstrap intervals, calibration) and McNemar's test of the champion against the best
baseline are reported, never used to choose.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from reviewlake.train import champion, evaluate
from reviewlake.train.baselines import MAJORITY
from reviewlake.train.data import GoldData
from reviewlake.train.metrics import Candidate, ChampionChoice, Classification

log = logging.getLogger(__name__)

KINDS = {champion.LSTM: "lstm", champion.ENSEMBLE: "ensemble"}  # any other model: a baseline


@dataclass(frozen=True)
class Scores:
    """Each model's probabilities on the validation and on the test rows, by model name."""

    validation: dict[str, np.ndarray]
    test: dict[str, np.ndarray]


@dataclass(frozen=True)
class Choice:
    """The figures of every candidate and of the choice (``figures.champion``, its members and
    weights: metrics.json's keys of the choice), and the champion's test probabilities and test
    figures."""

    figures: ChampionChoice
    test_probabilities: np.ndarray
    test: Classification


def choose_champion(gold: GoldData, scores: Scores, seed: int) -> Choice:
    """The candidates (each model of ``scores``, and with more than one an ensemble weighted on
    validation), the champion (best validation accuracy), and the test figures of each
    (bootstrap draws seeded with ``seed``)."""
    y_val = gold.validation.labels
    candidates, val_acc, weights = _with_ensemble(scores, y_val)
    name = champion.choose(val_acc)
    members = weights if name == champion.ENSEMBLE else {name: 1.0}
    members = {m: w for m, w in members.items() if w}
    majority = _majority_probabilities(gold)
    figures = _test_figures(gold, candidates, majority, val_acc, weights, seed)
    test = {**candidates.test, MAJORITY: majority}
    best_baseline = _best_baseline(figures)
    y_test = gold.test.labels
    p_value = evaluate.mcnemar_p(y_test, test[name].argmax(axis=1), test[best_baseline].argmax(axis=1))
    log.info(
        "champion %s (validation accuracy %.4f) members %s; best baseline %s; McNemar p %.4g",
        name,
        val_acc[name],
        members,
        best_baseline,
        p_value,
    )
    choice = ChampionChoice(
        champion=name,
        champion_members=members,
        best_baseline=best_baseline,
        mcnemar_p_vs_best_baseline=p_value,
        candidates=figures,
        reliability={n: evaluate.reliability(y_test, p) for n, p in test.items() if n != MAJORITY},
    )
    champion_test = Classification.of(y_test, test[name].argmax(axis=1), gold.class_names)
    return Choice(choice, test[name], champion_test)


def _accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return float((probs.argmax(axis=1) == y).mean()) if len(y) else 0.0


def _with_ensemble(scores: Scores, y_val: np.ndarray) -> tuple[Scores, dict[str, float], dict[str, float]]:
    """The models of ``scores`` and, with more than one (and validation rows), the ensemble of
    them weighted on validation; every candidate's validation accuracy; the ensemble's weights."""
    val_acc = {n: _accuracy(p, y_val) for n, p in scores.validation.items()}
    if len(scores.validation) <= 1 or not len(y_val):
        return scores, val_acc, {}
    weights = champion.ensemble_weights(scores.validation, y_val)
    validation = {**scores.validation, champion.ENSEMBLE: champion.mix(scores.validation, weights)}
    test = {**scores.test, champion.ENSEMBLE: champion.mix(scores.test, weights)}
    val_acc[champion.ENSEMBLE] = _accuracy(validation[champion.ENSEMBLE], y_val)
    return Scores(validation, test), val_acc, weights


def _test_figures(
    gold: GoldData,
    candidates: Scores,
    majority: np.ndarray,
    val_acc: Mapping[str, float],
    weights: dict[str, float],
    seed: int,
) -> dict[str, Candidate]:
    """Every candidate's test figures and validation accuracy, then the majority class's
    (``majority``: its probabilities)."""
    y_test, classes = gold.test.labels, gold.class_names
    figures = {}
    for n, p in candidates.test.items():
        figures[n] = Candidate(
            **evaluate.candidate_metrics(y_test, p, classes, KINDS.get(n, "baseline"), seed=seed),
            validation_accuracy=round(val_acc[n], 4),
            weights=weights if n == champion.ENSEMBLE else None,
        )
    figures[MAJORITY] = Candidate(**evaluate.candidate_metrics(y_test, majority, classes, MAJORITY, seed=seed))
    return figures


def _majority_probabilities(gold: GoldData) -> np.ndarray:
    """Certainty for the training labels' majority class on every test row."""
    majority = evaluate.majority_class(gold.train.labels)
    return np.eye(len(gold.class_names))[np.full(len(gold.test), majority)]


def _best_baseline(figures: Mapping[str, Candidate]) -> str:
    """The linear model with the best test accuracy, or the majority class without them."""
    linear_names = [n for n, c in figures.items() if c.kind == "baseline"]
    return max(linear_names or [MAJORITY], key=lambda n: figures[n].accuracy)
