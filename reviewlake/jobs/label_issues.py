"""The label_issues job (``make label-issues``): gold.features + gold.labels + silver.reviews ->
gold.label_issues, the queue of likely mislabelled reviews for people to check
(:mod:`reviewlake.train.label_issues`: out-of-fold probabilities of the char n-gram linear model,
folds by duplicate cluster, then cleanlab's confident learning), gated by GX before publish.

Each run that builds the queue replaces the table whole (an overwrite, not a MERGE: it is the
current queue, earlier ones stay in its Delta history). A run builds it when gold.features changed
since the queue was built or the ``label_issues`` settings differ from those it was built with (both
recorded in the commit's metadata); otherwise it changes nothing (``--force``: build anyway).
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from reviewlake.core import delta_io
from reviewlake.core.job import Job, RunContext
from reviewlake.quality import gate
from reviewlake.quality.stager import Stager
from reviewlake.quality.suites import gold as gold_suite
from reviewlake.train import label_issues as li

log = logging.getLogger("label_issues")


def run(ctx: RunContext, force: bool = False) -> None:
    """Plan (is the queue behind gold.features or the settings?) -> read -> cross-validate -> find
    issues -> stage -> audit -> publish."""
    t = li.table_uris(ctx.cfg)
    ctx.watch({"label_issues": t["label_issues"]})
    gate.warm_up_for(ctx)
    features_version = li.inputs_version(ctx.spark, ctx.cfg)
    recorded = delta_io.read_commit_metadata(ctx.spark, t["label_issues"])
    settings = ctx.cfg.label_issues.as_dict()
    if not force and recorded.get("features_version") == features_version and recorded.get("settings") == settings:
        log.info("gold/label_issues is up to date with gold/features version %s: nothing to do", features_version)
        return
    labelled, probs = cross_validate(ctx, features_version)
    issues = find_issues(ctx, labelled, probs)
    found_at = datetime.now(UTC).replace(microsecond=0)
    rows = li.issues_frame(ctx.spark, issues, ctx.run_id, features_version, found_at)
    with Stager(ctx) as stager:
        staged = stager.stage("gold.label_issues", rows)
        with ctx.step("quality"):
            stager.audit(
                staged,
                gold_suite.label_issues(labelled.class_names, len(labelled)),
                view=lambda df: df.withColumn("relabels", F.col("given_label") != F.col("suggested_label")),
                rows=len(issues),
            )
        with ctx.step("publish") as st:
            meta = delta_io.commit_metadata(features_version=features_version, settings=settings, run_id=ctx.run_id)
            delta_io.overwrite(staged.df, t["label_issues"], user_metadata=meta)
            st.rows_out = len(issues)
    ctx.report.summary["label_issues"] = {
        "features_version": features_version,
        "labelled_rows": len(labelled),
        "issues": len(issues),
        "per_given_label": {str(k): int(v) for k, v in issues["given_label"].value_counts().sort_index().items()},
        "out_of_fold_accuracy": round(float(np.mean(probs.argmax(axis=1) == labelled.labels)), 4),
        "table": t["label_issues"],
        "data_docs": [g.docs_page for g in stager.gates],
    }


def cross_validate(ctx: RunContext, features_version: int) -> tuple[li.Labelled, np.ndarray]:
    """The labelled rows (on the driver) and their out-of-fold probabilities."""
    with ctx.step("read") as st:
        frame, labelled = li.read_labelled(ctx.spark, ctx.cfg, features_version)
        st.rows_out = len(labelled)
        st.detail = {"per_fold": {int(f): int(n) for f, n in enumerate(np.bincount(labelled.folds))}}
    try:
        with ctx.step("cross_validate") as st:
            probs = li.out_of_fold_probabilities(frame, labelled, ctx.cfg.label_issues)
            st.rows_in = st.rows_out = len(labelled)
            st.detail = {"model": li.KIND, "reg_param": ctx.cfg.label_issues.reg_param}
    finally:
        frame.unpersist()
    return labelled, probs


def find_issues(ctx: RunContext, labelled: li.Labelled, probs: np.ndarray) -> pd.DataFrame:
    """Confident learning on the driver: the flagged rows, ranked."""
    with ctx.step("find_issues") as st:
        issues = li.rank_issues(labelled.review_ids, labelled.labels, probs, labelled.class_names, ctx.cfg.label_issues)
        st.rows_in, st.rows_out = len(labelled), len(issues)
        st.detail = {"filter_by": ctx.cfg.label_issues.filter_by, "rank_by": ctx.cfg.label_issues.rank_by}
    log.info("%d of %d labelled rows flagged as likely mislabelled", len(issues), len(labelled))
    return issues


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="rebuild even if gold.features and the settings did not change")


JOB = Job(
    "label_issues",
    "Find likely mislabelled reviews (confident learning) into gold.label_issues.",
    body=lambda ctx, args: run(ctx, force=args.force),
    options=_options,
)
main = JOB.main

if __name__ == "__main__":
    import sys

    sys.exit(main())
