"""The train_model job: gold.features/vocab/labels (+ silver text and tokens) -> the LSTM (Horovod on
Spark) and the linear models (Spark ML) -> the champion, chosen on validation, with test metrics
-> ``<models_dir>/<version>/`` (+ ``LATEST``), with a per-stage run report.

Stages (each timed in the report): ``read_gold`` (driver collects the splits as numpy arrays and
checks the gold contracts), ``baselines`` (majority class; the linear TF-IDF models of
reviewlake/train/linear.py, fitted with Spark ML on silver text and tokens of the same splits),
``train`` (the LSTM: reviewlake/train/horovod_spark.py; ``wide_lstm`` starts its linear part from
the fitted char_1_4gram model), ``evaluate`` (the LSTM on validation and test), ``champion`` (an
ensemble weighted on validation; the candidate best on validation becomes the version's model:
reviewlake/train/champion.py; test figures with bootstrap intervals, McNemar, calibration),
``export`` (reviewlake/train/export.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.job import Job, RunContext
from reviewlake.core.settings import Settings
from reviewlake.errors import ConfigError, InputError, InvariantError
from reviewlake.text.serving import preprocessing, vocab_lines
from reviewlake.train import champion, evaluate, export, horovod_spark, linear
from reviewlake.train.data import SPLITS, SplitInputs
from reviewlake.train.model import WIDE, WIDE_LINEAR, WideStart, predict
from reviewlake.train.params import TrainParams

log = logging.getLogger("train_model")


def table_uris(cfg: Settings) -> dict[str, str]:
    """The gold tables training reads (features, vocab, labels), by short name."""
    return tables.uris(cfg, "gold/features", "gold/vocab", "gold/labels")


@dataclass
class GoldData:
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    review_ids: dict[str, np.ndarray]
    max_len: int
    vocab_size: int
    class_names: list[str]
    vocab_lines: list[str]
    vocab_version: str
    table_versions: dict[str, int | None] = field(default_factory=dict)

    def rows(self) -> dict[str, int]:
        return {s: int(len(self.y[s])) for s in SPLITS}


def _require(spark: SparkSession, uri: str, name: str) -> DataFrame:
    if not delta_io.exists(spark, uri):
        raise InputError(f"{name} not found at {uri}: run `make features` first")
    return delta_io.read(spark, uri)


def read_gold(spark: SparkSession, cfg: Settings) -> GoldData:
    """Collect gold.features (ordered by review_id, so independent of partitioning), gold.vocab and
    gold.labels on the driver, checking the contracts the model relies on."""
    t = table_uris(cfg)
    features = _require(spark, t["features"], "gold.features")
    vocab = _require(spark, t["vocab"], "gold.vocab")
    labels = _require(spark, t["labels"], "gold.labels")

    label_rows = labels.select("label", "label_id").orderBy("label_id").collect()
    class_names = [r["label"] for r in label_rows]
    if [r["label_id"] for r in label_rows] != list(range(len(label_rows))) or len(class_names) < 2:
        raise InvariantError(f"gold.labels must hold ids 0..K-1 with K >= 2, got {[tuple(r) for r in label_rows]}")

    vocab_rows = vocab.select("token", "token_id", "vocab_version").collect()
    vocab_versions = {r["vocab_version"] for r in vocab_rows}
    if len(vocab_versions) > 1:
        raise InvariantError(f"gold.vocab mixes vocab versions {sorted(vocab_versions)}")
    lines = vocab_lines((r["token"], r["token_id"]) for r in vocab_rows)

    pdf = (
        features.select("review_id", "split", "label_id", "token_ids", "vocab_version").orderBy("review_id").toPandas()
    )
    if pdf.empty:
        raise InputError(f"gold.features at {t['features']} is empty")
    unknown_splits = set(pdf["split"]) - set(SPLITS)
    if unknown_splits:
        raise InvariantError(f"gold.features has unknown splits {sorted(unknown_splits)}")
    feature_versions = set(pdf["vocab_version"])
    if len(feature_versions) != 1 or (vocab_versions and feature_versions != vocab_versions):
        raise InvariantError(
            f"gold.features vocab_version {sorted(feature_versions)} does not match gold.vocab {sorted(vocab_versions)}"
        )
    for column in ("token_ids", "label_id", "split"):
        if pdf[column].isna().any():
            raise InvariantError(f"gold.features has {int(pdf[column].isna().sum())} rows with null {column}")
    lengths = {len(ids) for ids in pdf["token_ids"]}
    if len(lengths) != 1:
        raise InvariantError(f"gold.features token_ids have different lengths {sorted(lengths)}")
    max_len = lengths.pop()
    configured = cfg.features.max_len
    if configured != "auto" and max_len != configured:  # auto: the features run chose it from the data
        log.warning(
            "gold.features sequences are %d long, features.max_len is %s: the model follows the data",
            max_len,
            cfg.features.max_len,
        )

    x_all = np.stack([np.asarray(ids, dtype=np.int32) for ids in pdf["token_ids"]])
    y_all = pdf["label_id"].to_numpy(dtype=np.int32)
    vocab_size = len(lines)
    if int(x_all.max()) >= vocab_size:
        raise InvariantError(f"gold.features uses token id {int(x_all.max())}, beyond gold.vocab ({len(lines)} ids)")
    if y_all.min() < 0 or y_all.max() >= len(class_names):
        raise InvariantError(f"gold.features label_id outside 0..{len(class_names) - 1}")

    x, y, ids = {}, {}, {}
    for split in SPLITS:
        mask = (pdf["split"] == split).to_numpy()
        x[split] = x_all[mask].reshape(-1, max_len)
        y[split] = y_all[mask]
        ids[split] = pdf["review_id"].to_numpy()[mask]
    if len(y["train"]) == 0 or len(y["test"]) == 0:
        raise InputError(f"gold.features needs train and test rows, has { ({s: len(y[s]) for s in SPLITS}) }")
    return GoldData(
        x=x,
        y=y,
        review_ids=ids,
        max_len=int(max_len),
        vocab_size=int(vocab_size),
        class_names=class_names,
        vocab_lines=lines,
        vocab_version=str(feature_versions.pop()),
        table_versions={k: delta_io.version(spark, uri) for k, uri in t.items()},
    )


def checkpoint_dir(models_dir: Path, gold: GoldData, params: TrainParams, num_proc: int) -> Path:
    """Where a training run checkpoints: keyed by the gold table versions, vocabulary, parameters
    and world size, so a rerun of the same training after a failure resumes, and any other
    training starts afresh. Removed when the model is exported."""
    key = json.dumps(
        {
            "tables": gold.table_versions,
            "vocab": gold.vocab_version,
            "num_proc": num_proc,
            "params": dataclasses.asdict(params),
        },
        sort_keys=True,
        default=str,
    )
    return models_dir / "_checkpoints" / hashlib.sha256(key.encode()).hexdigest()[:16]


def reg_param_grid(cfg: Settings) -> list[float]:
    """The baseline's regParam values: ``train.logreg_reg_params`` (a list, or one value); the older
    single-value key ``train.logreg_reg_param`` wins where a user config still sets it."""
    grid = cfg.train.logreg_reg_params
    if cfg.train.logreg_reg_param is not None:
        grid = cfg.train.logreg_reg_param
        log.warning("train.logreg_reg_param is deprecated: use train.logreg_reg_params (a list)")
    values = [float(v) for v in (grid if isinstance(grid, (list, tuple)) else [grid])]
    if not values:
        raise ConfigError("train.logreg_reg_params holds no value")
    return values


def read_text(spark: SparkSession, cfg: Settings, gold: GoldData) -> tuple[DataFrame, dict[str, Any]]:
    """gold.features' rows (``split``, ``label`` as double) with silver.reviews' ``text`` and
    ``tokens``: the frame the linear models fit on (cached here, since every kind and regParam
    reads it; the caller unpersists it), and every split's ``text`` and ``tokens`` on the driver in
    gold's row order (what the models score, and ``wide_lstm``'s char inputs). Every gold row must
    still have its silver row."""
    features = delta_io.read(spark, table_uris(cfg)["features"]).select(
        "review_id", "split", F.col("label_id").cast("double").alias("label")
    )
    silver_uri = tables.uri(cfg, "silver", "reviews")
    if not delta_io.exists(spark, silver_uri):
        raise InputError(f"silver.reviews not found at {silver_uri}: the linear models read its text")
    silver = delta_io.read(spark, silver_uri).select("review_id", "text", "tokens")
    frame = features.join(silver, "review_id").cache()
    try:
        pdf = frame.select("review_id", "text", "tokens").toPandas().set_index("review_id")
        inputs: dict[str, Any] = {}
        for split in SPLITS:
            ids = gold.review_ids[split]
            missing = int((~np.isin(ids, pdf.index)).sum())
            if missing:
                raise InputError(
                    f"{missing} {split} rows of gold.features have no silver.reviews row: silver "
                    "changed after `make features`; run it again"
                )
            rows = pdf.loc[ids]
            inputs[split] = {"text": list(rows["text"]), "tokens": list(rows["tokens"])}
    except BaseException:
        frame.unpersist()
        raise
    return frame, inputs


def fit_linear(frame: DataFrame, cfg: Settings, inputs: dict[str, Any]) -> dict[str, tuple[linear.Fitted, dict]]:
    """Each linear kind fitted (regParam from ``train.logreg_reg_params``, chosen on validation),
    with its probabilities on the validation and test rows: ``{kind: (fitted, {split: probs})}``."""
    out = {}
    for kind in linear.KINDS:
        fitted = linear.fit(frame, kind, reg_param_grid(cfg), max_iter=cfg.train.logreg_max_iter)
        col = fitted.model.column
        probs = {split: fitted.model.probabilities(inputs[split][col]) for split in ("validation", "test")}
        log.info(
            "linear %s: regParam %g, validation accuracy %.4f, %d features",
            kind,
            fitted.model.reg_param,
            fitted.validation_accuracy,
            len(fitted.model.vocabulary),
        )
        out[kind] = (fitted, probs)
    return out


def wide_inputs(
    char_model: linear.LinearTextModel, texts: dict[str, Any], char_len: int
) -> tuple[WideStart, dict[str, dict[str, np.ndarray]]]:
    """``wide_lstm``'s start (the char model's coefficients) and its char inputs per split."""
    char_inputs = {}
    for split in SPLITS:
        ids, weights = char_model.sparse_inputs(texts[split]["text"], char_len)
        char_inputs[split] = {"char_ids": ids, "char_weights": weights}
    return WideStart(char_model.coef, char_model.intercept, int(char_len)), char_inputs


def _predict(model, rows: SplitInputs, arch: str, cfg: Settings) -> np.ndarray:
    return predict(model, rows.model_inputs(arch), len(rows), cfg.score.batch_size)


def choose_champion(
    gold: GoldData, val_probs: dict[str, np.ndarray], test_probs: dict[str, np.ndarray], cfg: Settings
) -> dict[str, Any]:
    """The candidates (each model in ``val_probs``, and with more than one an ensemble weighted on
    validation), the champion (best validation accuracy), and the test figures of each: bootstrap
    intervals, calibration, McNemar of the champion against the best baseline. Returns
    ``name``, ``members``, the champion's ``test_probs``, ``reliability`` curves and the metrics
    ``summary`` (the keys metrics.json gains)."""
    y_val, y_test = gold.y["validation"], gold.y["test"]
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
    majority = evaluate.majority_class(gold.y["train"])
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
        gold = read_gold(spark, cfg)
        st.rows_in = sum(gold.rows().values())
        st.detail = {
            **gold.rows(),
            "vocab_size": gold.vocab_size,
            "max_len": gold.max_len,
            "classes": len(gold.class_names),
        }

    params = TrainParams.of(cfg.train)
    num_proc = cfg.train.num_proc
    wide_arch = params.architecture == WIDE
    linear_models: dict[str, linear.LinearTextModel] = {}
    val_probs: dict[str, np.ndarray] = {}
    test_probs: dict[str, np.ndarray] = {}
    texts: dict[str, Any] = {}
    with report.stage("baselines") as st:
        baselines: dict[str, Any] = {
            "majority": evaluate.majority_baseline(gold.y["train"], gold.y["test"], gold.class_names)
        }
        if cfg.train.tfidf_baseline:
            frame, texts = read_text(spark, cfg, gold)
            try:
                fits = fit_linear(frame, cfg, texts)
            finally:
                frame.unpersist()
            for kind, (fitted, probs) in fits.items():
                linear_models[kind] = fitted.model
                val_probs[kind], test_probs[kind] = probs["validation"], probs["test"]
                baselines[kind] = {
                    **evaluate.classification_metrics(gold.y["test"], probs["test"].argmax(axis=1), gold.class_names),
                    **fitted.summary(),
                }
        st.detail = {name: round(b["accuracy"], 4) for name, b in baselines.items()}

    arch = params.architecture
    with report.stage("train") as st:
        inputs = {split: SplitInputs(gold.review_ids[split], gold.y[split], gold.x[split]) for split in SPLITS}
        wide = None
        if wide_arch:
            wide, char_inputs = wide_inputs(linear_models[WIDE_LINEAR], texts, cfg.train.char_len)
            inputs = {
                s: inputs[s].with_chars(char_inputs[s]["char_ids"], char_inputs[s]["char_weights"]) for s in SPLITS
            }
        ckpt = checkpoint_dir(models_dir, gold, params, num_proc)
        result = horovod_spark.train(
            spark,
            inputs["train"],
            inputs["validation"],
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
        st.rows_in = int(len(gold.y["train"]))
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
        val_probs = {champion.LSTM: _predict(result.model, inputs["validation"], arch, cfg), **val_probs}
        test_probs = {champion.LSTM: _predict(result.model, inputs["test"], arch, cfg), **test_probs}
        lstm_metrics = evaluate.classification_metrics(
            gold.y["test"], test_probs[champion.LSTM].argmax(axis=1), gold.class_names
        )
        st.rows_in = int(len(gold.y["test"]))
        st.detail = {"accuracy": round(lstm_metrics["accuracy"], 4), "macro_f1": round(lstm_metrics["macro_f1"], 4)}

    with report.stage("champion") as st:
        chosen = choose_champion(gold, val_probs, test_probs, cfg)
        metrics = evaluate.classification_metrics(gold.y["test"], chosen["test_probs"].argmax(axis=1), gold.class_names)
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
            "tables": table_uris(cfg),
            "table_versions": gold.table_versions,
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
                "linear": linear_models,
                "test_review_ids": gold.review_ids["test"],
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
