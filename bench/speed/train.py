"""Benchmark (issue #6): Horovod-on-Spark training with 1 and with 2 processes on the same gold
tables and parameters: samples/s, epochs, and test accuracy / macro-F1 of each, so the two can
be compared (2 processes should land within about a point of 1).

Reads the gold tables of ``--lakehouse`` (run ``make features`` first); trains each world size
with :func:`reviewlake.train.horovod_spark.train` (no checkpoints, nothing exported); writes
``bench/results/<UTC date>-train.json``. Not a test: it asserts nothing.

    python -m bench.speed.train --lakehouse lakehouse --procs 1 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.record import ROOT, Record


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", default=str(ROOT / "lakehouse"))
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--conf", action="append", default=[], help="config override KEY=VALUE (e.g. train.epochs=3)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("train")

    from reviewlake.core.cli import setup_logging
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark
    from reviewlake.train import evaluate, horovod_spark
    from reviewlake.train.gold import read_gold
    from reviewlake.train.params import TrainParams

    setup_logging()
    cfg = load_config(
        overrides=[
            f"lakehouse={args.lakehouse}",
            f"spark.master=local[{max(args.procs)}]",
            "train.architecture=lstm",  # the word LSTM alone: wide_lstm starts from the linear models
            *args.conf,
        ]
    )
    spark = get_spark(cfg)
    gold, _ = read_gold(spark, cfg, with_text=False)
    params = TrainParams.of(cfg.train)
    runs = []
    for n in args.procs:
        start = time.perf_counter()
        result = horovod_spark.train(
            spark,
            gold.train,
            gold.validation,
            vocab_size=gold.vocab_size,
            max_len=gold.max_len,
            n_classes=len(gold.class_names),
            params=params,
            num_proc=n,
            start_timeout=cfg.train.start_timeout,
        )
        wall = time.perf_counter() - start
        y_pred = result.model.predict(gold.test.token_ids, batch_size=512, verbose=0).argmax(axis=1)
        m = evaluate.classification_metrics(gold.test.labels, y_pred, gold.class_names)
        runs.append(
            {
                "num_proc": n,
                "samples_per_s": round(result.samples_per_s, 1),
                "wall_seconds": round(wall, 1),
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                "test_accuracy": round(m["accuracy"], 4),
                "test_macro_f1": round(m["macro_f1"], 4),
                "val_loss": [round(v, 4) for v in result.history.get("val_loss", [])],
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    spark.stop()
    result = {
        "issue": 6,
        "data": {
            "rows": gold.rows(),
            "vocab_size": gold.vocab_size,
            "max_len": gold.max_len,
            "vocab_version": gold.vocab_version,
            "table_versions": gold.table_versions,
        },
        "params": params,
        "runs": runs,
        "samples_per_s_is": "training rows over all ranks per second of model.fit (validation passes included)",
    }
    rec.write(result, args.out)


if __name__ == "__main__":
    main()
