"""Benchmark (issue #32, item 4): ``train.label_issues`` keep against drop on the bundled corpus,
to choose its default on validation.

A drop run's validation split loses the rows gold/label_issues flags (the hardest ones), so the
validation accuracies the two runs report are not on the same rows. This scores both runs'
champions (``reviewlake.train.champion.Scorer``) on the **full** validation split (every row, its
given label) and on the test split (as sampled, the same in both runs), and also on the validation
rows the queue flags and on the others apart, and the two champions against each other on the
same rows (exact McNemar test).

Reads the gold and silver tables of ``--lakehouse`` (``make features`` and ``make label-issues``
first), runs the train_model job (``reviewlake.jobs.train_model.run``, the configured model) once
per mode into ``--models-dir``; writes ``bench/results/<UTC date>-label_drop.json`` after each
mode. Not a test: it asserts nothing.

    python -m bench.quality.label_drop --lakehouse lakehouse --models-dir /tmp/label-drop-models

With ``--flip-seed S`` (``make features`` first), the runs use a copy of the lakehouse in
``<models-dir>/lakehouse`` whose train and validation labels have ``--flip-rate`` of them flipped
to another class (``bench.quality.label_flips.flip``, seed S), and whose gold/label_issues the
label_issues job builds from those noisy labels; the test split keeps its labels as sampled, so
test accuracy is against the original stars and comparable across seeds and modes. The result
also says how many of the flipped rows the queue holds.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from bench.record import ROOT, Record, log

MODES = ("keep", "drop")


def settings(lakehouse: str, models_dir: str, mode: str, conf: list[str]):
    from reviewlake.core.config import load_config

    return load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            f"models_dir={models_dir}",
            f"reports_dir={models_dir}/reports",
            f"train.label_issues={mode}",
            *conf,
        ]
    )


def train(cfg) -> dict:
    """One train_model run: its metrics.json, model folder and stage seconds."""
    from reviewlake.core.job import RunContext
    from reviewlake.jobs import train_model

    with RunContext("train_model", cfg) as ctx:
        out = train_model.run(ctx)
    return {
        "model_dir": str(out["model_dir"]),
        "metrics": out["metrics"],
        "stage_seconds": {s["name"]: s["seconds"] for s in out["report"]["stages"]},
    }


def flipped_lakehouse(spark, source: str, target: str, rate: float, seed: int) -> dict:
    """Copy ``source`` to ``target`` (a local folder), flip ``rate`` of its train and validation
    labels in gold/features (rows in review_id order, :func:`bench.quality.label_flips.flip`), then
    run the label_issues job on the copy; returns the flips and how many the queue holds."""
    import pandas as pd
    from pyspark.sql import functions as F

    from bench.quality.label_flips import flip
    from reviewlake.core import delta_io, tables
    from reviewlake.core.job import RunContext
    from reviewlake.jobs import label_issues

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    cfg = settings(target, f"{target}/models", "keep", [])
    uri = tables.uri(cfg, "gold", "features")
    features = delta_io.read(spark, uri)
    given = features.filter(F.col("split") != "test").select("review_id", "label_id").orderBy("review_id").toPandas()
    classes = delta_io.read(spark, tables.uri(cfg, "gold", "labels")).count()
    noisy, rows = flip(given["label_id"].to_numpy(), classes, rate, seed)
    flipped = pd.DataFrame({"review_id": given["review_id"].to_numpy()[rows], "_noisy": noisy[rows].astype("int32")})
    relabelled = (
        features.join(F.broadcast(spark.createDataFrame(flipped)), "review_id", "left")
        .withColumn("label_id", F.coalesce("_noisy", "label_id").cast(features.schema["label_id"].dataType))
        .select(*features.columns)
        .localCheckpoint()  # read whole before the same table is overwritten
    )
    delta_io.overwrite(relabelled, uri)
    with RunContext("label_issues", cfg) as ctx:
        label_issues.run(ctx)
    queue = delta_io.read(spark, tables.uri(cfg, "gold", "label_issues")).select("review_id").toPandas()
    queued = set(queue["review_id"])
    found = len(queued & set(flipped["review_id"]))
    return {
        "seed": seed,
        "rate": rate,
        "labelled_train_validation": len(given),
        "flipped": len(flipped),
        "queued": len(queued),
        "flipped_found": found,
        "recall": round(found / len(flipped), 4) if len(flipped) else None,
    }


def full_splits(spark, cfg):
    """Every validation and test row as sampled (``keep``), with silver's text and tokens, and
    whether gold/label_issues flags it."""
    from dataclasses import replace

    from reviewlake.core import delta_io, tables
    from reviewlake.train.gold import read_gold

    keep = replace(cfg, train=replace(cfg.train, label_issues="keep"))
    gold, frame = read_gold(spark, keep, with_text=True)
    frame.unpersist()
    queued = delta_io.read(spark, tables.uri(cfg, "gold", "label_issues")).select("review_id").toPandas()
    flagged = set(queued["review_id"])
    return gold, {s: np.isin(gold.splits[s].review_ids, list(flagged)) for s in ("validation", "test")}


def accuracy(y: np.ndarray, pred: np.ndarray, mask: np.ndarray | None = None) -> dict:
    m = np.ones(len(y), dtype=bool) if mask is None else mask
    return {"rows": int(m.sum()), "accuracy": round(float(np.mean(pred[m] == y[m])), 4) if m.any() else None}


def predictions(model_dir: str, gold) -> dict[str, np.ndarray]:
    """The champion's class ids for every validation and test row."""
    from reviewlake.train.champion import Scorer

    scorer = Scorer.from_model_dir(model_dir)
    return {s: scorer.predict(gold.text[s].text, gold.text[s].tokens).argmax(axis=1) for s in ("validation", "test")}


def score(pred: dict[str, np.ndarray], gold, flagged: dict) -> dict:
    """Accuracy on the full validation split and on test: all rows, flagged, not flagged."""
    out = {}
    for split, p in pred.items():
        y = gold.splits[split].labels
        out[split] = {
            "all": accuracy(y, p),
            "flagged": accuracy(y, p, flagged[split]),
            "not_flagged": accuracy(y, p, ~flagged[split]),
        }
    return out


def paired(keep: dict[str, np.ndarray], drop: dict[str, np.ndarray], gold) -> dict:
    """keep's champion against drop's on the same rows: rows only one gets right, exact McNemar p."""
    from reviewlake.train.evaluate import mcnemar_p

    out = {}
    for split in keep:
        y = gold.splits[split].labels
        a, b = keep[split] == y, drop[split] == y
        out[split] = {
            "only_keep_right": int((a & ~b).sum()),
            "only_drop_right": int((~a & b).sum()),
            "mcnemar_p": round(mcnemar_p(y, keep[split], drop[split]), 4),
        }
    return out


def summary(run: dict) -> dict:
    m = run["metrics"]
    champion = m["candidates"][m["champion"]]
    return {
        "champion": m["champion"],
        "champion_members": m["champion_members"],
        "label_issues": m["label_issues"],
        "reported_validation_accuracy": champion.get("validation_accuracy"),
        "reported_test_accuracy": round(m["accuracy"], 4),
        "candidates_test_accuracy": {n: round(c["accuracy"], 4) for n, c in m["candidates"].items()},
        "candidates_validation_accuracy": {
            n: round(c["validation_accuracy"], 4) for n, c in m["candidates"].items() if "validation_accuracy" in c
        },
        "model_dir": run["model_dir"],
        "stage_seconds": run["stage_seconds"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", default=str(ROOT / "lakehouse"))
    p.add_argument("--models-dir", required=True, help="where each mode's model goes (<dir>/<mode>/)")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--conf", action="append", default=[], help="config override KEY=VALUE")
    p.add_argument("--flip-seed", type=int, default=None, help="flip train/validation labels first (see above)")
    p.add_argument("--flip-rate", type=float, default=0.06)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("label_drop")

    from reviewlake.core.cli import setup_logging
    from reviewlake.core.spark import get_spark

    setup_logging()
    cfg = settings(args.lakehouse, args.models_dir, "keep", args.conf)
    spark = get_spark(cfg)
    result = {"issue": 32, "lakehouse": args.lakehouse, "conf": args.conf, "runs": {}}
    if args.flip_seed is not None:
        copy = f"{args.models_dir}/lakehouse"
        log(f"flipping {args.flip_rate:.0%} of the train and validation labels (seed {args.flip_seed}) in {copy}")
        result["flips"] = flipped_lakehouse(spark, args.lakehouse, copy, args.flip_rate, args.flip_seed)
        args.lakehouse = copy
        cfg = settings(args.lakehouse, args.models_dir, "keep", args.conf)
    gold, flagged = full_splits(spark, cfg)
    pred = {}
    for mode in args.modes:
        log(f"training with train.label_issues={mode}")
        run = train(settings(args.lakehouse, f"{args.models_dir}/{mode}", mode, args.conf))
        pred[mode] = predictions(run["model_dir"], gold)
        result["runs"][mode] = {**summary(run), "scored": score(pred[mode], gold, flagged)}
        print(json.dumps(result["runs"][mode], indent=2))
        if len(pred) == len(MODES):
            result["keep_vs_drop"] = paired(pred["keep"], pred["drop"], gold)
        rec.write(result, args.out, suffix="" if args.flip_seed is None else f"-flip{args.flip_seed}")


if __name__ == "__main__":
    main()
