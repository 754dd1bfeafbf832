"""Benchmark (issue #18): the training job's candidates and champion on the bundled corpus, one
training run per seed (``train.seed``: the LSTM's initialisation and shuffling; the linear models
do not depend on it), so the champion's lift over the best baseline can be seen against run-to-run
noise as well as against the bootstrap intervals of one run.

Reads the gold and silver tables of ``--lakehouse`` (run ``make features`` first) and runs the
train_model job (``reviewlake.jobs.train_model.run``: Horovod on Spark, the linear models, the
champion, the export) once per seed into a scratch models folder; writes
``bench/results/<UTC date>-champion.json``. Not a test: it asserts nothing.

    python -m bench.quality.champion --lakehouse lakehouse --seeds 7 8
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.record import ROOT, Record


def one_run(spark, lakehouse: str, seed: int, models_dir: str, conf: list[str]) -> dict:
    from reviewlake.core.config import load_config
    from reviewlake.core.job import RunContext
    from reviewlake.jobs import train_model

    cfg = load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            f"models_dir={models_dir}",
            f"reports_dir={models_dir}/reports",
            f"train.seed={seed}",
            *conf,
        ]
    )
    with RunContext("train_model", cfg) as ctx:
        out = train_model.run(ctx)
    m = out["metrics"]
    cands = m["candidates"]
    best = m["best_baseline"]
    return {
        "seed": seed,
        "champion": m["champion"],
        "champion_members": m["champion_members"],
        "champion_test_accuracy": round(m["accuracy"], 4),
        "best_baseline": best,
        "best_baseline_test_accuracy": round(cands[best]["accuracy"], 4),
        "lift_points": round(100 * (m["accuracy"] - cands[best]["accuracy"]), 2),
        "mcnemar_p_vs_best_baseline": m["mcnemar_p_vs_best_baseline"],
        "candidates": {
            n: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in c.items()} for n, c in cands.items()
        },
        "stage_seconds": {s["name"]: s["seconds"] for s in out["report"]["stages"]},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", default=str(ROOT / "lakehouse"))
    p.add_argument("--seeds", type=int, nargs="+", default=[7, 8])
    p.add_argument("--conf", action="append", default=[], help="config override KEY=VALUE")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("champion")

    from reviewlake.core.cli import setup_logging
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark

    setup_logging()
    spark = get_spark(load_config(overrides=[f"lakehouse={args.lakehouse}"]))
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-champion-") as scratch:
        for seed in args.seeds:
            runs.append(one_run(spark, args.lakehouse, seed, f"{scratch}/models-{seed}", args.conf))
    result = {"issue": 18, "lakehouse": args.lakehouse, "conf": args.conf, "runs": runs}
    print(json.dumps(result, indent=2))
    rec.write(result, args.out)


if __name__ == "__main__":
    main()
