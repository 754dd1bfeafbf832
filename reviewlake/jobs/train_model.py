"""The train_model job: gold.features/vocab/labels (+ silver text and tokens) -> the LSTM (Horovod on
Spark) and the linear models (Spark ML) -> the champion, chosen on validation, with test metrics
-> ``<models_dir>/<version>/`` (+ ``LATEST``), with a per-step run report.

Steps (each timed in the report), the library code of each in reviewlake/train/:

* ``read_gold``: the splits on the driver as named arrays, the gold contracts checked, with silver's
  text and tokens of the same rows when the linear models are fitted (gold.py);
* ``baselines``: the majority class; the linear TF-IDF models, fitted with Spark ML (baselines.py,
  linear.py);
* ``train``: the LSTM with Horovod on Spark (horovod_spark.py; ``wide_lstm`` starts its linear part
  from the fitted char_1_4gram model: lstm_inputs.py), checkpointed so that a rerun resumes (checkpoint.py);
* ``evaluate``: the LSTM on validation and test;
* ``champion``: an ensemble weighted on validation; the candidate best on validation becomes the
  version's model; test figures with bootstrap intervals, McNemar, calibration (candidates.py);
* ``export``: the version folder with the champion as one SavedModel, params.json and metrics.json
  written from their records (export.py, champion_model.py, version_params.py, metrics.py).
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame

from reviewlake.core.job import Job, RunContext
from reviewlake.text.serving import preprocessing
from reviewlake.train import export, horovod_spark
from reviewlake.train.baselines import MAJORITY, Baselines, fit_baselines
from reviewlake.train.candidates import Choice, Scores, choose_champion
from reviewlake.train.champion import LSTM
from reviewlake.train.checkpoint import checkpoint_dir
from reviewlake.train.data import GoldData
from reviewlake.train.gold import read_gold
from reviewlake.train.horovod_spark import TrainResult
from reviewlake.train.lstm_inputs import LstmInputs, lstm_inputs
from reviewlake.train.metrics import Classification, Metrics
from reviewlake.train.params import TrainParams
from reviewlake.train.version_params import VersionParams

log = logging.getLogger("train_model")


def run(ctx: RunContext) -> dict[str, Any]:
    """read gold -> baselines -> train -> evaluate -> champion -> export; returns ``{version,
    model_dir, metrics, report}`` (the report is written when ``ctx`` closes)."""
    ctx.watch({})  # writes no table: its Spark jobs only
    params = TrainParams.of(ctx.cfg.train)
    gold, text_frame = read(ctx)
    base = baselines(ctx, gold, text_frame)
    ckpt = checkpoint_dir(ctx.cfg.models_path, gold, params, ctx.cfg.train.num_proc)
    inputs, trained = train(ctx, gold, base, params, ckpt)
    scores, lstm = evaluate(ctx, gold, base, inputs, trained)
    choice = champion(ctx, gold, scores)
    model_dir, metrics = export_version(ctx, gold, params, base, inputs, trained, lstm, choice, ckpt)
    summarise(ctx, model_dir, metrics)
    return {
        "version": metrics.model_version,
        "model_dir": model_dir,
        "metrics": metrics.to_json(),
        "report": ctx.report.to_dict(),
    }


def read(ctx: RunContext) -> tuple[GoldData, DataFrame | None]:
    """The gold splits (and with the linear models silver's text: the frame they fit on)."""
    with ctx.step("read_gold") as st:
        gold, text_frame = read_gold(ctx.spark, ctx.cfg, with_text=ctx.cfg.train.tfidf_baseline)
        st.rows_in = sum(gold.rows().values())
        st.detail = {
            **gold.rows(),
            "vocab_size": gold.vocab_size,
            "max_len": gold.max_len,
            "classes": len(gold.class_names),
            "label_issues": gold.label_issues.mode,
            "dropped": sum(gold.label_issues.dropped.values()),
        }
    return gold, text_frame


def baselines(ctx: RunContext, gold: GoldData, text_frame: DataFrame | None) -> Baselines:
    """The majority class and the linear models (fitted on ``text_frame``, released after)."""
    with ctx.step("baselines") as st:
        try:
            base = fit_baselines(gold, text_frame, ctx.cfg.train)
        finally:
            if text_frame is not None:
                text_frame.unpersist()
        st.detail = {name: round(accuracy, 4) for name, accuracy in base.accuracies().items()}
    return base


def train(
    ctx: RunContext, gold: GoldData, base: Baselines, params: TrainParams, ckpt: Path
) -> tuple[LstmInputs, TrainResult]:
    """The LSTM, trained with Horovod on Spark (resuming from ``ckpt`` when a run left one)."""
    with ctx.step("train") as st:
        inputs = lstm_inputs(gold, params, base.models)
        result = horovod_spark.train(
            ctx.spark,
            inputs.splits["train"],
            inputs.splits["validation"],
            vocab_size=gold.vocab_size,
            max_len=gold.max_len,
            n_classes=len(gold.class_names),
            params=params,
            num_proc=ctx.cfg.train.num_proc,
            start_timeout=ctx.cfg.train.start_timeout,
            checkpoint_dir=str(ckpt),
            wide=inputs.wide,
        )
        if result.resumed_from_epoch:
            log.info("resumed from the checkpoint of epoch %d in %s", result.resumed_from_epoch, ckpt)
        st.rows_in = len(gold.train)
        st.detail = {
            "architecture": params.architecture,
            "num_proc": result.world_size,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "devices": ",".join(result.devices),
            "resumed_from_epoch": result.resumed_from_epoch,
            "final_loss": round(result.history["loss"][-1], 4),
            "samples_per_s": round(result.samples_per_s, 1),
        }
    return inputs, result


def evaluate(
    ctx: RunContext, gold: GoldData, base: Baselines, inputs: LstmInputs, trained: TrainResult
) -> tuple[Scores, Classification]:
    """Every model's probabilities on validation and test (the LSTM's first), and the LSTM's test figures."""
    with ctx.step("evaluate") as st:
        batch_size = ctx.cfg.score.batch_size
        validation = inputs.probabilities(trained.model, "validation", batch_size)
        test = inputs.probabilities(trained.model, "test", batch_size)
        scores = Scores({LSTM: validation, **base.validation}, {LSTM: test, **base.test})
        lstm = Classification.of(gold.test.labels, test.argmax(axis=1), gold.class_names)
        st.rows_in = len(gold.test)
        st.detail = {"accuracy": round(lstm.accuracy, 4), "macro_f1": round(lstm.macro_f1, 4)}
    return scores, lstm


def champion(ctx: RunContext, gold: GoldData, scores: Scores) -> Choice:
    """The candidates' figures and the one best on validation."""
    with ctx.step("champion") as st:
        choice = choose_champion(gold, scores, ctx.cfg.train.seed)
        st.detail = {
            "champion": choice.figures.champion,
            "members": choice.figures.champion_members,
            "accuracy": round(choice.test.accuracy, 4),
            "mcnemar_p_vs_best_baseline": choice.figures.mcnemar_p_vs_best_baseline,
        }
    return choice


def export_version(
    ctx: RunContext,
    gold: GoldData,
    params: TrainParams,
    base: Baselines,
    inputs: LstmInputs,
    trained: TrainResult,
    lstm: Classification,
    choice: Choice,
    ckpt: Path,
) -> tuple[Path, Metrics]:
    """The version folder (``LATEST`` pointing at it) from the run's records; the checkpoint removed."""
    with ctx.step("export") as st:
        models_dir = ctx.cfg.models_path
        version = export.choose_version(ctx.cfg.train.version, models_dir)
        metrics = Metrics(
            version,
            choice.test,
            choice.figures,
            lstm,
            base.metrics,
            trained.history,
            trained.epochs_run,
            trained.best_epoch,
            gold.label_issues,
        )
        files = export.ChampionFiles(
            choice.figures.champion,
            choice.figures.champion_members,
            base.models,
            gold.test.review_ids,
            choice.test_probabilities,
            choice.figures.reliability,
        )
        model_dir = export.export_model(
            trained.model,
            models_dir,
            VersionParams.of(version, gold, params, trained, inputs.char_len, ctx.run_id),
            metrics,
            vocab_lines=gold.vocab_lines,
            preprocessing=preprocessing(ctx.cfg),
            champion=files,
        )
        shutil.rmtree(ckpt, ignore_errors=True)
        st.detail = {"version": version, "path": str(model_dir)}
    return model_dir, metrics


def summarise(ctx: RunContext, model_dir: Path, metrics: Metrics) -> None:
    """The run report's summary and the closing log line."""
    ctx.report.summary["train"] = {
        "version": metrics.model_version,
        "model_dir": str(model_dir),
        "champion": metrics.choice.champion,
        "accuracy": metrics.test.accuracy,
        "macro_f1": metrics.test.macro_f1,
        "baselines": {name: b.test.accuracy for name, b in metrics.baselines.items()},
    }
    log.info(
        "model %s: champion %s, test %s; majority %s",
        metrics.model_version,
        metrics.choice.champion,
        metrics.test.summary_line(),
        metrics.baselines[MAJORITY].test.summary_line(),
    )


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
