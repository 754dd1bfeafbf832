"""The build_features job (``make features``): silver.reviews -> gold.vocab, gold.labels,
gold.features (:mod:`reviewlake.features.gold`), gated by GX before publish.

Gold is rebuilt when silver moved since gold was built (silver's version is recorded in the gold
commits' metadata); with nothing new the job changes nothing.
"""

from __future__ import annotations

import argparse
import logging

from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.job import Job, RunContext
from reviewlake.errors import InputError
from reviewlake.features.gold import Gold, build_gold
from reviewlake.quality import gate
from reviewlake.quality.stager import Staged, Stager
from reviewlake.quality.suites import gold as gold_suite

log = logging.getLogger("build_features")

GOLD = ("vocab", "labels", "features")  # publish order


def table_uris(ctx: RunContext) -> dict[str, str]:
    """silver (read) and the gold tables this job writes (vocab, labels, features), by short name."""
    return tables.uris(ctx.cfg, "silver/reviews", "gold/vocab", "gold/labels", "gold/features")


def run(ctx: RunContext, force: bool = False) -> None:
    """Plan (is gold behind silver?) -> read silver -> build gold -> stage -> audit -> publish."""
    t = table_uris(ctx)
    ctx.watch({name: t[name] for name in GOLD})
    gate.warm_up_for(ctx)
    if not delta_io.exists(ctx.spark, t["silver"]):
        raise InputError("silver/reviews does not exist: run clean_reviews first")
    source = delta_io.built_from(ctx.spark, t["silver"], t["features"], "silver_version")
    if source.current and not force:
        log.info("gold is up to date with silver version %s: nothing to do", source.source_version)
        return
    silver = delta_io.read(ctx.spark, t["silver"], version=source.source_version)
    gold = build_gold(silver, ctx.cfg.features, ctx.cfg.labels, ctx.report)
    with Stager(ctx) as stager:
        staged = stage(ctx, stager, gold)
        audit(ctx, stager, staged, gold)
        with ctx.step("publish"):
            meta = delta_io.commit_metadata(silver_version=source.source_version, run_id=ctx.run_id)
            for name in GOLD:
                delta_io.overwrite(staged[name].df, t[name], user_metadata=meta)
    ctx.report.summary["gold"] = {
        "silver_version": source.source_version,
        "data_docs": [g.docs_page for g in stager.gates],
    }


def stage(ctx: RunContext, stager: Stager, gold: Gold) -> dict[str, Staged]:
    with ctx.step("stage") as st:
        staged = {name: stager.stage(f"gold.{name}", getattr(gold, name)) for name in GOLD}
        st.rows_out = gold.feature_rows
    return staged


def audit(ctx: RunContext, stager: Stager, staged: dict[str, Staged], gold: Gold) -> None:
    with ctx.step("quality"):
        stager.audit(staged["vocab"], gold_suite.vocab(ctx.cfg), rows=gold.vocab_rows)
        stager.audit(
            staged["features"],
            gold_suite.features(ctx.cfg, gold.n_classes, gold.max_len),
            view=lambda df: df.withColumn("n_token_ids", F.size("token_ids")).drop("tfidf"),
            rows=gold.feature_rows,
        )


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="rebuild even if silver did not change")


JOB = Job(
    "build_features",
    "Build gold.vocab / gold.labels / gold.features from silver.reviews.",
    body=lambda ctx, args: run(ctx, force=args.force),
    options=_options,
)
main = JOB.main

if __name__ == "__main__":
    import sys

    sys.exit(main())
