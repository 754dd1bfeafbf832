"""Test-split metrics, baselines and plots. Pure functions over numpy arrays (no Spark, no TF).

Metrics (docs/training.md): ``accuracy``, ``macro_f1`` (averaged over the classes that
occur in ``y_true``: a class absent from the test split has no defined recall and is left out),
``per_class`` precision/recall/F1/support for every class, and the confusion matrix (rows = true
class, columns = predicted class, both in class-id order). A ratio with a zero denominator is 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _as_ids(values: Sequence[int] | np.ndarray, n_classes: int, name: str) -> np.ndarray:
    arr = np.asarray(values).astype(np.int64).reshape(-1)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} holds ids outside 0..{n_classes - 1}")
    return arr


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``n_classes x n_classes`` counts; cell [i, j] = rows of true class i predicted as j."""
    t = _as_ids(y_true, n_classes, "y_true")
    p = _as_ids(y_pred, n_classes, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} rows, y_pred {p.size}")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def classification_metrics(y_true, y_pred, class_names: Sequence[str]) -> dict[str, Any]:
    """accuracy, macro_f1, per_class and confusion_matrix for class ids ``y_true`` vs ``y_pred``."""
    names = [str(c) for c in class_names]
    n = len(names)
    if n == 0:
        raise ValueError("no class names")
    cm = confusion_matrix(y_true, y_pred, n)
    total = int(cm.sum())
    if total == 0:
        raise ValueError("no rows to evaluate")
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    per_class: dict[str, dict[str, float | int]] = {}
    f1s_present: list[float] = []
    for i, name in enumerate(names):
        precision = _ratio(tp[i], predicted[i])
        recall = _ratio(tp[i], support[i])
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": int(support[i])}
        if support[i] > 0:
            f1s_present.append(f1)
    return {
        "accuracy": _ratio(tp.sum(), total),
        "macro_f1": float(np.mean(f1s_present)),
        "per_class": per_class,
        "confusion_matrix": {"labels": names, "matrix": cm.tolist()},
        "n": total,
    }


def majority_class(y_train) -> int:
    """The most frequent class id of ``y_train`` (the smallest id on a tie)."""
    arr = np.asarray(y_train).astype(np.int64).reshape(-1)
    if arr.size == 0:
        raise ValueError("no training labels")
    return int(np.bincount(arr).argmax())


def majority_baseline(y_train, y_true, class_names: Sequence[str]) -> dict[str, Any]:
    """Metrics of always predicting the majority class of the *training* labels."""
    cls = majority_class(y_train)
    metrics = classification_metrics(y_true, np.full(len(np.asarray(y_true).reshape(-1)), cls), class_names)
    metrics["predicted_class"] = str(class_names[cls])
    return metrics


# --------------------------------------------------------------------------- plots (Agg, no display)
def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def plot_training_curves(history: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Loss and accuracy per epoch (train and, when present, validation) as a PNG."""
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    fig = _figure(10, 4)
    panels = [("loss", "loss"), ("sparse_categorical_accuracy", "accuracy")]
    for k, (key, title) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, 2, k)
        for name, style in ((key, "-o"), (f"val_{key}", "--s")):
            values = list(history.get(name) or [])
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=name.replace("sparse_categorical_", ""))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path, title: str = "confusion matrix (test)"
) -> Path:
    """Counts of true (rows) vs predicted (columns) classes as an annotated heat map PNG."""
    path = Path(path)
    cm = np.asarray(matrix, dtype=np.int64)
    size = max(4.0, 1.2 * len(labels) + 2)
    fig = _figure(size, size)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(cm, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels=list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color="white" if cm[i, j] > threshold else "black")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


# --------------------------------------------------------------------------- uncertainty and calibration
def _as_probs(probs, n_rows: int | None = None) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probabilities must be [rows, classes >= 2], got shape {p.shape}")
    if n_rows is not None and p.shape[0] != n_rows:
        raise ValueError(f"{p.shape[0]} probability rows for {n_rows} labels")
    return p


def bootstrap_ci(
    y_true, y_pred, n_classes: int, *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of ``accuracy`` and ``macro_f1``: ``resamples`` draws of the
    test rows with replacement (one seeded generator, so a rerun gives the same interval).
    Returns ``{"accuracy": [lo, hi], "macro_f1": [lo, hi]}``."""
    t = _as_ids(y_true, n_classes, "y_true")
    p = _as_ids(y_pred, n_classes, "y_pred")
    if t.size == 0 or t.shape != p.shape:
        raise ValueError(f"need equally long, non-empty labels and predictions ({t.size}, {p.size})")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, t.size, size=(resamples, t.size))
    tt, pp = t[idx], p[idx]
    acc = (tt == pp).mean(axis=1)
    f1s, present = [], []
    for c in range(n_classes):
        tp = ((tt == c) & (pp == c)).sum(axis=1)
        support = (tt == c).sum(axis=1)
        predicted = (pp == c).sum(axis=1)
        # F1 = 2 tp / (support + predicted); 0 where both are 0
        f1s.append(np.divide(2 * tp, support + predicted, out=np.zeros(resamples), where=(support + predicted) > 0))
        present.append(support > 0)
    f1s, present = np.array(f1s), np.array(present)
    macro = (f1s * present).sum(axis=0) / np.maximum(present.sum(axis=0), 1)
    tail = (1 - level) / 2 * 100
    return {
        name: [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]
        for name, v in (("accuracy", acc), ("macro_f1", macro))
    }


def mcnemar_p(y_true, pred_a, pred_b) -> float:
    """Two-sided exact McNemar test of two classifiers on the same rows: under the null, the rows
    exactly one of them gets right are equally likely to favour either (binomial, p = 1/2).
    1.0 when they disagree on no row's correctness."""
    t = np.asarray(y_true).reshape(-1)
    a = np.asarray(pred_a).reshape(-1) == t
    b = np.asarray(pred_b).reshape(-1) == t
    if not (t.shape == a.shape == b.shape):
        raise ValueError("labels and both predictions must be equally long")
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    if n == 0:
        return 1.0
    from math import comb

    tail = sum(comb(n, k) for k in range(min(only_a, only_b) + 1))  # exact integers: no underflow
    return float(min(1.0, 2 * tail / 2**n))


def reliability(y_true, probs, bins: int = 10) -> dict[str, list]:
    """Per confidence bin (equal width on [0, 1], by the top class's probability): ``count``,
    mean ``confidence`` and ``accuracy`` (None for an empty bin), and the bin ``edges``."""
    t = np.asarray(y_true).astype(np.int64).reshape(-1)
    p = _as_probs(probs, t.size)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == t
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    counts, confidence, accuracy = [], [], []
    for k in range(bins):
        m = which == k
        counts.append(int(m.sum()))
        confidence.append(float(conf[m].mean()) if m.any() else None)
        accuracy.append(float(correct[m].mean()) if m.any() else None)
    return {"edges": edges.tolist(), "count": counts, "confidence": confidence, "accuracy": accuracy}


def expected_calibration_error(y_true, probs, bins: int = 10) -> float:
    """ECE: the row-weighted mean over confidence bins of |accuracy - mean confidence| (top class,
    ``bins`` equal-width bins). 0 for a perfectly calibrated classifier."""
    r = reliability(y_true, probs, bins)
    total = sum(r["count"])
    return float(
        sum(n * abs(a - c) for n, a, c in zip(r["count"], r["accuracy"], r["confidence"], strict=True) if n) / total
    )


def candidate_metrics(
    y_true, probs, class_names: Sequence[str], kind: str, *, resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """The figures every candidate model reports on the test split: ``kind``, ``accuracy``,
    ``macro_f1``, their bootstrap 95% intervals and ``ece``."""
    t = np.asarray(y_true).astype(np.int64).reshape(-1)
    p = _as_probs(probs, t.size)
    pred = p.argmax(axis=1)
    m = classification_metrics(t, pred, class_names)
    ci = bootstrap_ci(t, pred, len(class_names), resamples=resamples, seed=seed)
    return {
        "kind": kind,
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "accuracy_ci95": ci["accuracy"],
        "macro_f1_ci95": ci["macro_f1"],
        "ece": expected_calibration_error(t, p),
    }


def plot_reliability(
    curves: Mapping[str, Mapping[str, list]], path: str | Path, title: str = "reliability (test)"
) -> Path:
    """Accuracy against mean confidence per bin, one line per model (:func:`reliability`), with
    the diagonal of perfect calibration, as a PNG."""
    path = Path(path)
    fig = _figure(5.5, 5)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], ":", color="grey", label="calibrated")
    for name, r in curves.items():
        pts = [(c, a) for c, a in zip(r["confidence"], r["accuracy"], strict=True) if c is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), "-o", label=name)
    ax.set_xlabel("mean confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
