"""Benchmark (issue #32): does the label-issue queue find labels known to be wrong? On the labelled
rows of a lakehouse (gold/features with silver's text), a share of the labels (``--rate``, 6% by
default) is flipped to another class, chosen by seed; the label_issues job's own steps
(``reviewlake.train.label_issues``: out-of-fold probabilities of the char n-gram model, then
cleanlab) run on the noisy labels, with the configured settings. Per seed: recall (the flipped rows
in the queue), the queue's share of all labelled rows, precision against the flips (a lower bound:
the queue also holds rows whose original label was wrong, which the run without flips shows).

    python -m bench.quality.label_flips --lakehouse lakehouse --seeds 1 2 3

Reads ``--lakehouse`` (run ``make features`` first), writes no table; the result goes to
``bench/results/<UTC date>-label-flips.json``. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.record import ROOT, Record, log


def flip(labels: np.ndarray, classes: int, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(noisy labels, flipped row numbers): ``round(rate * n)`` rows, each moved to another class."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(labels), size=int(round(rate * len(labels))), replace=False))
    noisy = labels.copy()
    noisy[rows] = (labels[rows] + rng.integers(1, classes, size=len(rows))) % classes
    return noisy, rows


def one_run(spark, frame, rows, settings, seed: int | None, rate: float) -> dict:
    """The queue for ``rows``' labels with ``rate`` of them flipped by ``seed`` (None: as given)."""
    from reviewlake.train import label_issues as li

    pdf = frame.select("review_id", "text", "fold").orderBy("review_id").toPandas()
    labels, flipped = (rows.labels, np.array([], dtype=np.int64))
    if seed is not None:
        labels, flipped = flip(rows.labels, len(rows.class_names), rate, seed)
    pdf["label"] = labels.astype(float)
    noisy = li.Labelled(rows.review_ids, rows.texts, labels, rows.folds, rows.class_names, rows.features_version)
    started = time.monotonic()
    probs = li.out_of_fold_probabilities(spark.createDataFrame(pdf), noisy, settings)
    issues = li.rank_issues(rows.review_ids, labels, probs, rows.class_names, settings)
    seconds = time.monotonic() - started
    queued = set(issues["review_id"])
    found = len(queued & set(rows.review_ids[flipped]))
    n = len(rows)
    return {
        "seed": seed,
        "labelled_rows": n,
        "flipped": len(flipped),
        "queued": len(queued),
        "queued_share": round(len(queued) / n, 4),
        "flipped_found": found,
        "recall": round(found / len(flipped), 4) if len(flipped) else None,
        "precision_vs_flips": round(found / len(queued), 4) if queued and len(flipped) else None,
        "out_of_fold_accuracy_vs_given": round(float(np.mean(probs.argmax(axis=1) == labels)), 4),
        "out_of_fold_accuracy_vs_original": round(float(np.mean(probs.argmax(axis=1) == rows.labels)), 4),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", default=str(ROOT / "lakehouse"))
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--rate", type=float, default=0.06)
    p.add_argument("--conf", action="append", default=[], help="config override KEY=VALUE")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("label-flips")

    from reviewlake.core.cli import setup_logging
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark
    from reviewlake.train import label_issues as li

    setup_logging()
    cfg = load_config(overrides=[f"lakehouse={args.lakehouse}", *args.conf])
    spark = get_spark(cfg)
    frame, rows = li.read_labelled(spark, cfg, li.inputs_version(spark, cfg))
    result = {"issue": 32, "lakehouse": args.lakehouse, "rate": args.rate, "conf": args.conf, "runs": []}
    try:
        for seed in [None, *args.seeds]:
            log(f"label flips: seed {seed}")
            result["runs"].append(one_run(spark, frame, rows, cfg.label_issues, seed, args.rate))
            rec.write(result, args.out)  # a cut-off run keeps the seeds it finished
    finally:
        frame.unpersist()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
