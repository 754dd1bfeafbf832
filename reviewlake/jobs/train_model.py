"""The train_model job: gold.features/vocab/labels (+ silver text and tokens) -> the LSTM (Horovod on
Spark) and the linear models (Spark ML) -> the champion, chosen on validation, with test metrics
-> ``<models_dir>/<version>/`` (+ ``LATEST``), with a per-stage run report.

Stages (each timed in the report): ``read_gold`` (driver collects the splits as named arrays and
checks the gold contracts, with silver text and tokens of the same rows for the linear models:
reviewlake/train/gold.py), ``baselines`` (majority class; the linear TF-IDF models of
reviewlake/train/linear.py, fitted with Spark ML: reviewlake/train/baselines.py), ``train`` (the
LSTM: reviewlake/train/horovod_spark.py; ``wide_lstm`` starts its linear part from the fitted
char_1_4gram model: reviewlake/train/lstm_inputs.py), ``evaluate`` (the LSTM on validation and test), ``champion`` (an
ensemble weighted on validation; the candidate best on validation becomes the version's model:
reviewlake/train/champion.py; test figures with bootstrap intervals, McNemar, calibration),
``export`` (reviewlake/train/export.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
from datetime import UTC, datetime
from typing import Any

import numpy as np

from reviewlake.core.job import Job, RunContext
from reviewlake.core.settings import Settings
from reviewlake.text.serving import preprocessing
from reviewlake.train import champion, evaluate, export, horovod_spark
from reviewlake.train.baselines import fit_baselines
from reviewlake.train.checkpoint import checkpoint_dir
from reviewlake.train.data import GoldData
from reviewlake.train.gold import read_gold
from reviewlake.train.lstm_inputs import lstm_inputs
from reviewlake.train.model import WIDE_LINEAR
from reviewlake.train.params import TrainParams
from reviewlake.train.records import to_json

log = logging.getLogger("train_model")


def choose_champion(
    gold: GoldData, val_probs: dict[str, np.ndarray], test_probs: dict[str, np.ndarray], cfg: Settings
) -> dict[str, Any]:
    """The candidates (each model in ``val_probs``, and with more than one an ensemble weighted on
    validation), the champion (best validation accuracy), and the test figures of each: bootstrap
    intervals, calibration, McNemar of the champion against the best baseline. Returns
    ``name``, ``members``, the champion's ``test_probs``, ``reliability`` curves and the metrics
    ``summary`` (the keys metrics.json gains)."""
    y_val, y_test = gold.validation.labels, gold.test.labels
    classes = gold.class_names
    val_acc = {n: float((p.argmax(axis=1) == y_val).mean()) if len(y_val) else 0.0 for n, p in val_probs.items()}
    candidates_val, candidates_test = dict(val_probs), dict(test_probs)
    weights: dict[str, float] = {}
    if len(val_probs) > 1 and len(y_val):
        weights = champion.ensemble_weights(val_probs, y_val)
        candidates_val[champion.ENSEMBLE] = champion.mix(val_probs, weights)
        candidates_test[champion.ENSEMBLE] = champion.mix(test_probs, weights)
        val_acc[champion.ENSEMBLE] = float((candidates_val[champion.ENSEMBLE].argmax(axis=1) == y_val).mean())
    name = champion.choose(val_acc)
    members = weights if name == champion.ENSEMBLE else {name: 1.0}
    members = {m: w for m, w in members.items() if w}

    seed = int(cfg.train.seed)
    kinds = {champion.LSTM: "lstm", champion.ENSEMBLE: "ensemble"}
    candidates = {}
    for n, p in candidates_test.items():
        candidates[n] = {
            **evaluate.candidate_metrics(y_test, p, classes, kinds.get(n, "baseline"), seed=seed),
            "validation_accuracy": round(val_acc[n], 4),
        }
        if n == champion.ENSEMBLE:
            candidates[n]["weights"] = weights
    majority = evaluate.majority_class(gold.train.labels)
    majority_probs = np.eye(len(classes))[np.full(len(y_test), majority)]
    candidates["majority"] = evaluate.candidate_metrics(y_test, majority_probs, classes, "majority", seed=seed)
    candidates_test["majority"] = majority_probs

    linear_names = [n for n, c in candidates.items() if c["kind"] == "baseline"]
    best_baseline = max(linear_names or ["majority"], key=lambda n: candidates[n]["accuracy"])
    p_value = evaluate.mcnemar_p(
        y_test, candidates_test[name].argmax(axis=1), candidates_test[best_baseline].argmax(axis=1)
    )
    reliability = {n: evaluate.reliability(y_test, p) for n, p in candidates_test.items() if n != "majority"}
    summary = {
        "champion": name,
        "champion_members": members,
        "best_baseline": best_baseline,
        "mcnemar_p_vs_best_baseline": p_value,
        "candidates": candidates,
        "reliability": reliability,
    }
    log.info(
        "champion %s (validation accuracy %.4f) members %s; best baseline %s; McNemar p %.4g",
        name,
        val_acc[name],
        members,
        best_baseline,
        p_value,
    )
    return {
        "name": name,
        "members": members,
        "test_probs": candidates_test[name],
        "reliability": reliability,
        "summary": summary,
    }


def run(ctx: RunContext) -> dict[str, Any]:
    """The whole job; returns ``{version, model_dir, metrics, report}`` (the report is written when ``ctx`` closes)."""
    spark, cfg, report = ctx.spark, ctx.cfg, ctx.report
    ctx.watch({})  # writes no table: its Spark jobs only
    models_dir = cfg.models_path
    with report.stage("read_gold") as st:
        gold, text_frame = read_gold(spark, cfg, with_text=cfg.train.tfidf_baseline)
        st.rows_in = sum(gold.rows().values())
        st.detail = {
            **gold.rows(),
            "vocab_size": gold.vocab_size,
            "max_len": gold.max_len,
            "classes": len(gold.class_names),
        }

    params = TrainParams.of(cfg.train)
    num_proc = cfg.train.num_proc
    with report.stage("baselines") as st:
        try:
            base = fit_baselines(gold, text_frame, cfg.train)
        finally:
            if text_frame is not None:
                text_frame.unpersist()
        baselines = {name: to_json(b) for name, b in base.metrics.items()}
        st.detail = {name: round(accuracy, 4) for name, accuracy in base.accuracies().items()}

    arch = params.architecture
    with report.stage("train") as st:
        inputs = lstm_inputs(gold, params, base.models)
        wide = inputs.wide
        ckpt = checkpoint_dir(models_dir, gold, params, num_proc)
        result = horovod_spark.train(
            spark,
            inputs.splits["train"],
            inputs.splits["validation"],
            vocab_size=gold.vocab_size,
            max_len=gold.max_len,
            n_classes=len(gold.class_names),
            params=params,
            num_proc=num_proc,
            start_timeout=cfg.train.start_timeout,
            checkpoint_dir=str(ckpt),
            wide=wide,
        )
        if result.resumed_from_epoch:
            log.info("resumed from the checkpoint of epoch %d in %s", result.resumed_from_epoch, ckpt)
        st.rows_in = len(gold.train)
        st.detail = {
            "architecture": arch,
            "num_proc": result.world_size,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "devices": ",".join(result.devices),
            "resumed_from_epoch": result.resumed_from_epoch,
            "final_loss": round(result.history["loss"][-1], 4),
            "samples_per_s": round(result.samples_per_s, 1),
        }

    with report.stage("evaluate") as st:
        batch_size = cfg.score.batch_size
        val_probs = {champion.LSTM: inputs.probabilities(result.model, "validation", batch_size), **base.validation}
        test_probs = {champion.LSTM: inputs.probabilities(result.model, "test", batch_size), **base.test}
        lstm_metrics = evaluate.classification_metrics(
            gold.test.labels, test_probs[champion.LSTM].argmax(axis=1), gold.class_names
        )
        st.rows_in = len(gold.test)
        st.detail = {"accuracy": round(lstm_metrics["accuracy"], 4), "macro_f1": round(lstm_metrics["macro_f1"], 4)}

    with report.stage("champion") as st:
        chosen = choose_champion(gold, val_probs, test_probs, cfg)
        metrics = evaluate.classification_metrics(
            gold.test.labels, chosen["test_probs"].argmax(axis=1), gold.class_names
        )
        st.detail = {
            "champion": chosen["name"],
            "members": chosen["members"],
            "accuracy": round(metrics["accuracy"], 4),
            "mcnemar_p_vs_best_baseline": chosen["summary"]["mcnemar_p_vs_best_baseline"],
        }

    with report.stage("export") as st:
        version = export.choose_version(cfg.train.version, models_dir)
        full_metrics = {
            "model_version": version,
            "split": "test",
            **metrics,
            **chosen["summary"],
            "lstm": lstm_metrics,
            "baselines": baselines,
            "history": result.history,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
        }
        full_params = {
            "version": version,
            "created_at": datetime.now(UTC).isoformat(),
            "max_len": gold.max_len,
            "vocab_size": gold.vocab_size,
            "n_classes": len(gold.class_names),
            "labels": gold.class_names,
            "input": {
                "signature": "serving_default",
                "name": "token_ids",
                "dtype": "int32",
                "shape": [None, gold.max_len],
                "pad_id": 0,
                "oov_id": 1,
            },
            "char_inputs": (
                {
                    "names": ["char_ids", "char_weights"],
                    "dtypes": ["int32", "float32"],
                    "shape": [None, wide.char_len],
                    "features": f"linear/{WIDE_LINEAR}.npz",
                }
                if wide is not None
                else None
            ),
            "output": {"name": "probabilities", "dtype": "float32", "shape": [None, len(gold.class_names)]},
            "train": dataclasses.asdict(params),
            "num_proc": result.world_size,
            "train_rows_per_rank": result.train_rows_per_rank,
            "devices": result.devices,
            "resumed_from_epoch": result.resumed_from_epoch,
            "samples_per_s": result.samples_per_s,
            "rows": gold.rows(),
            "vocab_version": gold.vocab_version,
            "tables": dict(gold.tables),
            "table_versions": dict(gold.table_versions),
            "run_id": report.run_id,
        }
        model_dir = export.export_model(
            result.model,
            models_dir,
            version,
            max_len=gold.max_len,
            char_len=wide.char_len if wide is not None else None,
            vocab_lines=gold.vocab_lines,
            class_names=gold.class_names,
            params=full_params,
            metrics=full_metrics,
            history=result.history,
            preprocessing=preprocessing(cfg),
            champion={
                "name": chosen["name"],
                "members": chosen["members"],
                "linear": base.models,
                "test_review_ids": gold.test.review_ids,
                "test_probabilities": chosen["test_probs"],
                "reliability": chosen["reliability"],
            },
        )
        shutil.rmtree(ckpt, ignore_errors=True)
        st.detail = {"version": version, "path": str(model_dir)}

    report.summary["train"] = {
        "version": version,
        "model_dir": str(model_dir),
        "champion": chosen["name"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "baselines": {k: v.get("accuracy") for k, v in baselines.items()},
    }
    log.info(
        "model %s: champion %s, test %s; majority %s",
        version,
        chosen["name"],
        evaluate.summary_line(metrics),
        evaluate.summary_line(baselines["majority"]),
    )
    return {"version": version, "model_dir": model_dir, "metrics": full_metrics, "report": report.to_dict()}


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", help="model version name (default: train.version; auto = UTC timestamp)")


JOB = Job(
    "train_model",
    "Train the sentiment model with Horovod on Spark and export a model version.",
    body=lambda ctx, args: run(ctx),
    options=_options,
    overrides=lambda args: [f"train.version={args.version}"] if args.version else [],
)
main = JOB.main

if __name__ == "__main__":
    import sys

    sys.exit(main())
