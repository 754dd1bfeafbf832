"""The build_features job (``make features``): silver.reviews -> gold.vocab, gold.labels,
gold.features, gated by GX before publish.

Gold is rebuilt when silver moved since gold was built (silver's version is recorded in the gold
commits' metadata); with nothing new the job changes nothing.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from reviewlake.core import delta_io, tables
from reviewlake.core.config import Config, local_path, to_uri
from reviewlake.core.report import RunReport
from reviewlake.errors import InputError
from reviewlake.features.sequences import token_ids_column
from reviewlake.features.split import assign_split
from reviewlake.features.tfidf import add_tfidf
from reviewlake.features.vocab import fit_vocab, vocab_version
from reviewlake.jobs.publish import Stager, commit_metadata, read_commit_metadata
from reviewlake.quality import gate
from reviewlake.quality.suites import gold as gold_suite

log = logging.getLogger("build_features")

FEATURE_COLUMNS = ("review_id", "split", "label_id", "token_ids", "tfidf", "vocab_version")


def table_uris(cfg: Config) -> dict[str, str]:
    """silver (read) and the gold tables this job writes (vocab, labels, features), by short name."""
    return tables.uris(cfg, "silver/reviews", "gold/vocab", "gold/labels", "gold/features")


def label_ids(classes: list[str], present: set[str]) -> dict[str, int]:
    """Ids for the labels present in the data, in the configured canonical order."""
    unknown = present - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} not in labels.classes {classes}")
    return {label: i for i, label in enumerate(c for c in classes if c in present)}


PERCENTILES = (50, 90, 95, 99)


def length_distribution(train: DataFrame) -> dict[str, int]:
    """Token counts of the train split: percentiles ``p50``.. ``p99`` (approximate) and ``max``."""
    n = F.size(F.coalesce(F.col("tokens"), F.array()))
    row = train.agg(
        F.percentile_approx(n, [p / 100 for p in PERCENTILES], 10_000).alias("p"), F.max(n).alias("max")
    ).first()
    out = {f"p{p}": int(v) for p, v in zip(PERCENTILES, row["p"] or [0] * len(PERCENTILES))}
    return {**out, "max": int(row["max"] or 0)}


def choose_max_len(cfg: Config, lengths: dict[str, int]) -> int:
    """``features.max_len``, or with ``auto`` the ``features.max_len_percentile`` of the train
    lengths, at most ``features.max_len_cap`` and at least 1."""
    value = cfg["features.max_len"]
    if str(value).lower() != "auto":
        return int(value)
    pct = cfg["features.max_len_percentile"]
    if f"p{pct}" not in lengths:
        raise ValueError(f"features.max_len_percentile must be one of {PERCENTILES}, not {pct}")
    return max(1, min(cfg["features.max_len_cap"], lengths[f"p{pct}"]))


def build_features(silver: DataFrame, cfg: Config, report: RunReport) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(vocab, labels, features) from the labelled rows of silver; pure apart from small collects
    (label set, vocabulary) that the next steps need on the driver."""
    labelled = silver.where(F.col("label").isNotNull()).select("review_id", "label", "tokens", "dup_cluster_id")
    with report.stage("split") as st:
        split = assign_split(labelled, cfg["features.split"], cfg["features.seed"]).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        counts = {
            (r["split"], r["label"]): r["n"]
            for r in split.groupBy("split", "label").count().withColumnRenamed("count", "n").collect()
        }
        st.rows_in = st.rows_out = sum(counts.values())
        st.detail = {"per_split_label": {f"{s}/{lab}": n for (s, lab), n in sorted(counts.items())}}
    train = split.where(F.col("split") == "train")
    with report.stage("vocab") as st:
        vocab_rows = [
            (r["token"], r["token_id"], r["doc_freq"])
            for r in fit_vocab(train, cfg["features.vocab_size"], cfg["features.min_df"]).collect()
        ]
        version = vocab_version([(t, i) for t, i, _ in vocab_rows])
        st.rows_out = len(vocab_rows)
        st.detail = {"vocab_version": version}
    spark = silver.sparkSession
    vocab = spark.createDataFrame(vocab_rows, "token string, token_id int, doc_freq long").withColumn(
        "vocab_version", F.lit(version)
    )
    mapping = label_ids(list(cfg["labels.classes"]), {lab for _, lab in counts})
    labels = spark.createDataFrame(sorted(mapping.items(), key=lambda kv: kv[1]), "label string, label_id int")

    lengths = length_distribution(train)
    max_len = choose_max_len(cfg, lengths)
    report.summary["token_lengths_train"] = lengths
    log.info("train token lengths %s -> max_len %d", lengths, max_len)
    ids = {t: i for t, i, _ in vocab_rows}
    label_map = F.create_map(*[F.lit(x) for kv in mapping.items() for x in kv])
    tokens_sorted = [t for t, _, _ in sorted(vocab_rows, key=lambda r: r[1])]
    features = (
        add_tfidf(split, train, tokens_sorted)
        .withColumn("label_id", F.element_at(label_map, F.col("label")).cast("int"))
        .withColumn("token_ids", token_ids_column(F.col("tokens"), ids, max_len))
        .withColumn("vocab_version", F.lit(version))
        .select(*FEATURE_COLUMNS)
    )
    report.summary["features"] = {
        "rows": sum(counts.values()),
        "vocab_size": len(vocab_rows),
        "vocab_version": version,
        "labels": mapping,
        "max_len": max_len,
        "per_split": {s: sum(n for (sp, _), n in counts.items() if sp == s) for s in ("train", "validation", "test")},
    }
    return vocab, labels, features


def run(spark: SparkSession, cfg: Config, force: bool = False) -> RunReport:
    report = RunReport("build_features")
    t = table_uris(cfg)
    report.watch(spark, {k: v for k, v in t.items() if k != "silver"})
    if cfg["quality.enabled"]:
        gate.warm_up()
    try:
        if not delta_io.exists(spark, t["silver"]):
            raise InputError("silver/reviews does not exist: run clean_reviews first")
        silver_version, _ = delta_io.last_data_commit(spark, t["silver"])
        built_from = read_commit_metadata(spark, t["features"]).get("silver_version")
        if built_from == silver_version and not force:
            log.info("gold is up to date with silver version %s: nothing to do", silver_version)
            return report
        silver = delta_io.read(spark, t["silver"], version=silver_version)
        vocab, labels, features = build_features(silver, cfg, report)
        n_classes = labels.count()

        with Stager(spark, cfg, report.run_id) as stager:
            with report.stage("stage") as st:
                staged = {
                    "vocab": stager.stage("gold.vocab", vocab),
                    "labels": stager.stage("gold.labels", labels),
                    "features": stager.stage("gold.features", features),
                }
                st.rows_out = staged["features"].df.count()
            with report.stage("quality"):
                stager.audit(staged["vocab"], gold_suite.vocab(cfg))
                stager.audit(
                    staged["features"],
                    gold_suite.features(cfg, n_classes, report.summary["features"]["max_len"]),
                    view=lambda df: df.withColumn("n_token_ids", F.size("token_ids")).drop("tfidf"),
                )
            with report.stage("publish"):
                meta = commit_metadata(silver_version=silver_version, run_id=report.run_id)
                for name in ("vocab", "labels", "features"):
                    delta_io.overwrite(staged[name].df, t[name], user_metadata=meta)
        report.summary["gold"] = {"silver_version": silver_version, "data_docs": [g.docs_page for g in stager.gates]}
    finally:
        gate.wait_for_warm_up()
        report.write(local_path(to_uri(cfg["reports_dir"])))
    return report


def main(argv: list[str] | None = None) -> int:
    from reviewlake.core import cli
    from reviewlake.core.spark import get_spark

    p = cli.parser("Build gold.vocab / gold.labels / gold.features from silver.reviews.", with_input=False)
    p.add_argument("--force", action="store_true", help="rebuild even if silver did not change")
    return cli.run("build_features", lambda args, cfg: run(get_spark(cfg), cfg, force=args.force), p, argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
