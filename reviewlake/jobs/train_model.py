"""The train_model job: gold.features/vocab/labels -> Horovod-on-Spark training -> test metrics and
baselines -> ``<models_dir>/<version>/`` (+ ``LATEST``), with a per-stage run report.

Stages (each timed in the report): ``read_gold`` (driver collects the splits as numpy arrays and
checks the gold contracts), ``train`` (reviewlake/train/horovod_spark.py), ``evaluate`` (model on the test
split), ``baselines`` (majority class; TF-IDF + Spark ML logistic regression on the same splits),
``export`` (reviewlake/train/export.py).
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.config import Config, local_path, to_uri
from reviewlake.core.report import RunReport
from reviewlake.features.tfidf import to_ml_vector
from reviewlake.train import evaluate, export, horovod_spark
from reviewlake.text.serving import preprocessing, vocab_lines
from reviewlake.errors import ConfigError, InputError, InvariantError

log = logging.getLogger("train_model")

SPLITS = ("train", "validation", "test")
PARAM_KEYS = ("architecture", "epochs", "batch_size", "learning_rate", "warmup_epochs", "clip_norm",
              "embedding_dim", "lstm_units", "cnn_filters", "cnn_widths", "dropout", "class_weight", "seed",
              "patience")


def table_uris(cfg: Config) -> dict[str, str]:
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


def read_gold(spark: SparkSession, cfg: Config) -> GoldData:
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

    pdf = (features.select("review_id", "split", "label_id", "token_ids", "vocab_version")
           .orderBy("review_id").toPandas())
    if pdf.empty:
        raise InputError(f"gold.features at {t['features']} is empty")
    unknown_splits = set(pdf["split"]) - set(SPLITS)
    if unknown_splits:
        raise InvariantError(f"gold.features has unknown splits {sorted(unknown_splits)}")
    feature_versions = set(pdf["vocab_version"])
    if len(feature_versions) != 1 or (vocab_versions and feature_versions != vocab_versions):
        raise InvariantError(f"gold.features vocab_version {sorted(feature_versions)} does not match "
                             f"gold.vocab {sorted(vocab_versions)}")
    for column in ("token_ids", "label_id", "split"):
        if pdf[column].isna().any():
            raise InvariantError(f"gold.features has {int(pdf[column].isna().sum())} rows with null {column}")
    lengths = {len(ids) for ids in pdf["token_ids"]}
    if len(lengths) != 1:
        raise InvariantError(f"gold.features token_ids have different lengths {sorted(lengths)}")
    max_len = lengths.pop()
    configured = cfg["features.max_len"]
    if configured != "auto" and max_len != configured:  # auto: the features run chose it from the data
        log.warning("gold.features sequences are %d long, features.max_len is %s: the model follows the data",
                    max_len, cfg["features.max_len"])

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
        raise InputError(f"gold.features needs train and test rows, has {({s: len(y[s]) for s in SPLITS})}")
    return GoldData(
        x=x, y=y, review_ids=ids, max_len=int(max_len), vocab_size=int(vocab_size), class_names=class_names,
        vocab_lines=lines, vocab_version=str(feature_versions.pop()),
        table_versions={k: delta_io.version(spark, uri) for k, uri in t.items()},
    )


def training_params(cfg: Config) -> dict[str, Any]:
    """The model and optimiser parameters of ``train.*`` that shape a training run."""
    return {k: cfg[f"train.{k}"] for k in PARAM_KEYS}


def checkpoint_dir(models_dir: Path, gold: "GoldData", params: dict[str, Any], num_proc: int) -> Path:
    """Where a training run checkpoints: keyed by the gold table versions, vocabulary, parameters
    and world size, so a rerun of the same training after a failure resumes, and any other
    training starts afresh. Removed when the model is exported."""
    key = json.dumps({"tables": gold.table_versions, "vocab": gold.vocab_version, "num_proc": num_proc,
                      "params": {k: v for k, v in params.items() if k != "fail_after_epoch"}},
                     sort_keys=True, default=str)
    return models_dir / "_checkpoints" / hashlib.sha256(key.encode()).hexdigest()[:16]


def reg_param_grid(cfg: Config) -> list[float]:
    """The baseline's regParam values: ``train.logreg_reg_params`` (a list, or one value); the older
    single-value key ``train.logreg_reg_param`` wins where a user config still sets it."""
    grid = cfg["train.logreg_reg_params"]
    if cfg["train.logreg_reg_param"] is not None:
        grid = cfg["train.logreg_reg_param"]
        log.warning("train.logreg_reg_param is deprecated: use train.logreg_reg_params (a list)")
    values = [float(v) for v in (grid if isinstance(grid, (list, tuple)) else [grid])]
    if not values:
        raise ConfigError("train.logreg_reg_params holds no value")
    return values


def tfidf_logreg_baseline(spark: SparkSession, cfg: Config, class_names: list[str]) -> dict[str, Any]:
    """Spark ML multinomial logistic regression on gold.features ``tfidf``: one fit per
    ``train.logreg_reg_params`` value on train, the value with the best validation accuracy kept
    (an untuned baseline flatters the model it is compared with), scored on test. The result
    carries ``reg_param`` and ``validation_accuracy`` of the chosen fit."""
    from pyspark.ml.classification import LogisticRegression

    features = delta_io.read(spark, table_uris(cfg)["features"]).select(
        "review_id", "split", F.col("label_id").cast("double").alias("label"), to_ml_vector(F.col("tfidf")).alias("tfidf"))
    split = {name: features.where(F.col("split") == name).cache() for name in ("train", "validation", "test")}

    def predict(model, name: str) -> tuple[np.ndarray, np.ndarray]:
        rows = model.transform(split[name]).select("label", "prediction").collect()
        return (np.array([int(r["label"]) for r in rows]), np.array([int(r["prediction"]) for r in rows]))

    try:
        best = None
        has_validation = not split["validation"].isEmpty()
        for reg in reg_param_grid(cfg):
            model = LogisticRegression(featuresCol="tfidf", labelCol="label", family="multinomial",
                                       maxIter=cfg["train.logreg_max_iter"],
                                       regParam=reg).fit(split["train"])
            # accuracy computed by Spark: nothing collected to the driver per grid value
            val_acc = float(model.evaluate(split["validation"]).accuracy) if has_validation else 0.0
            log.info("tfidf_logreg baseline: regParam %g, validation accuracy %.4f", reg, val_acc)
            if best is None or val_acc > best[1]:
                best = (reg, val_acc, model)
        reg, val_acc, model = best
        metrics = evaluate.classification_metrics(*predict(model, "test"), class_names)
    finally:
        for df in split.values():
            df.unpersist()
    return {**metrics, "reg_param": reg, "validation_accuracy": round(val_acc, 4)}


def run(spark: SparkSession, cfg: Config) -> dict[str, Any]:
    """The whole job; returns ``{version, model_dir, metrics, report}`` (report also written)."""
    report = RunReport("train_model")
    report.watch(spark, {})               # writes no table: its Spark jobs only
    models_dir = local_path(to_uri(cfg["models_dir"]))
    try:
        with report.stage("read_gold") as st:
            gold = read_gold(spark, cfg)
            st.rows_in = sum(gold.rows().values())
            st.detail = {**gold.rows(), "vocab_size": gold.vocab_size, "max_len": gold.max_len,
                         "classes": len(gold.class_names)}

        params = training_params(cfg)
        num_proc = cfg["train.num_proc"]
        with report.stage("train") as st:
            ckpt = checkpoint_dir(models_dir, gold, params, num_proc)
            result = horovod_spark.train(
                spark,
                {"x_train": gold.x["train"], "y_train": gold.y["train"],
                 "x_val": gold.x["validation"], "y_val": gold.y["validation"]},
                vocab_size=gold.vocab_size, max_len=gold.max_len, n_classes=len(gold.class_names),
                params=params, num_proc=num_proc, start_timeout=cfg["train.start_timeout"],
                checkpoint_dir=str(ckpt))
            if result.resumed_from_epoch:
                log.info("resumed from the checkpoint of epoch %d in %s", result.resumed_from_epoch, ckpt)
            st.rows_in = int(len(gold.y["train"]))
            st.detail = {"num_proc": result.world_size, "epochs_run": result.epochs_run,
                         "best_epoch": result.best_epoch, "devices": ",".join(result.devices),
                         "resumed_from_epoch": result.resumed_from_epoch,
                         "final_loss": round(result.history["loss"][-1], 4),
                         "samples_per_s": round(result.samples_per_s, 1)}

        with report.stage("evaluate") as st:
            probs = result.model.predict(gold.x["test"], batch_size=cfg["score.batch_size"], verbose=0)
            y_pred = probs.argmax(axis=1)
            metrics = evaluate.classification_metrics(gold.y["test"], y_pred, gold.class_names)
            st.rows_in = int(len(y_pred))
            st.detail = {"accuracy": round(metrics["accuracy"], 4), "macro_f1": round(metrics["macro_f1"], 4)}

        with report.stage("baselines") as st:
            baselines: dict[str, Any] = {
                "majority": evaluate.majority_baseline(gold.y["train"], gold.y["test"], gold.class_names)}
            if cfg["train.tfidf_baseline"]:
                try:
                    baselines["tfidf_logreg"] = tfidf_logreg_baseline(spark, cfg, gold.class_names)
                except Exception as exc:  # noqa: BLE001 - a failed baseline must not lose the model
                    log.warning("tfidf_logreg baseline failed: %s", exc, exc_info=True)
                    baselines["tfidf_logreg"] = {"error": f"{type(exc).__name__}: {exc}"}
            st.detail = {name: round(b["accuracy"], 4) for name, b in baselines.items() if "accuracy" in b}

        with report.stage("export") as st:
            version = export.choose_version(cfg["train.version"], models_dir)
            full_metrics = {
                "model_version": version,
                "split": "test",
                **metrics,
                "baselines": baselines,
                "history": result.history,
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
            }
            full_params = {
                "version": version,
                "created_at": datetime.now(timezone.utc).isoformat(),
                "max_len": gold.max_len,
                "vocab_size": gold.vocab_size,
                "n_classes": len(gold.class_names),
                "labels": gold.class_names,
                "input": {"signature": "serving_default", "name": "token_ids", "dtype": "int32",
                          "shape": [None, gold.max_len], "pad_id": 0, "oov_id": 1},
                "output": {"name": "probabilities", "dtype": "float32", "shape": [None, len(gold.class_names)]},
                "train": params,
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
                result.model, models_dir, version, max_len=gold.max_len, vocab_lines=gold.vocab_lines,
                class_names=gold.class_names, params=full_params, metrics=full_metrics,
                history=result.history, preprocessing=preprocessing(cfg))
            shutil.rmtree(ckpt, ignore_errors=True)
            st.detail = {"version": version, "path": str(model_dir)}

        report.summary["train"] = {
            "version": version, "model_dir": str(model_dir), "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "baselines": {k: v.get("accuracy") for k, v in baselines.items()},
        }
        log.info("model %s: test %s; majority %s", version, evaluate.summary_line(metrics),
                 evaluate.summary_line(baselines["majority"]))
    finally:
        report.write(local_path(to_uri(cfg["reports_dir"])))
    return {"version": version, "model_dir": model_dir, "metrics": full_metrics, "report": report.to_dict()}


def main(argv: list[str] | None = None) -> int:
    from reviewlake.core import cli

    p = cli.parser("Train the sentiment model with Horovod on Spark and export a model version.",
                   with_input=False)
    p.add_argument("--version", help="model version name (default: train.version; auto = UTC timestamp)")

    def job(args, cfg):
        from reviewlake.core.spark import get_spark

        if args.version:
            cfg = cfg.with_overrides([f"train.version={args.version}"])
        run(get_spark(cfg), cfg)

    return cli.run("train_model", job, p, argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
