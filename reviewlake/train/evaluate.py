"""Test-split metrics, baselines and plots. Pure functions over numpy arrays (no Spark, no TF).

Metrics (docs/training.md): ``accuracy``, ``macro_f1`` (averaged over the classes that
occur in ``y_true``: a class absent from the test split has no defined recall and is left out),
``per_class`` precision/recall/F1/support for every class, and the confusion matrix (rows = true
class, columns = predicted class, both in class-id order). A ratio with a zero denominator is 0.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

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


def summary_line(metrics: Mapping[str, Any]) -> str:
    return f"accuracy={metrics['accuracy']:.4f} macro_f1={metrics['macro_f1']:.4f} n={metrics.get('n')}"


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


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path,
                          title: str = "confusion matrix (test)") -> Path:
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
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > threshold else "black")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
