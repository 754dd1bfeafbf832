"""The score_reviews job: silver.reviews -> gold.predictions with one exported model version.

Each silver row's cleaned ``text`` and ``tokens`` go through the version's champion
(:mod:`reviewlake.train.scoring`). Results are MERGEd into
gold.predictions on (``review_id``, ``model_version``), so scoring the same rows with the same
model again updates them (``scored_at``) instead of adding rows.

The model files are read by the executors from ``<models_dir>/<version>/``: on a cluster
``models_dir`` must be a filesystem every executor mounts.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from reviewlake.core import delta_io, tables
from reviewlake.core.job import Job, RunContext
from reviewlake.core.spark import HELD
from reviewlake.errors import InputError
from reviewlake.train import export
from reviewlake.train.scoring import PREDICTION_KEYS, score


def run(ctx: RunContext, model_version: str | None = None) -> dict[str, Any]:
    """Score silver.reviews with ``model_version`` (default ``score.model_version``; ``latest`` =
    the version in ``<models_dir>/LATEST``) into gold.predictions; returns a summary."""
    silver_uri, out_uri = tables.uri(ctx.cfg, "silver", "reviews"), tables.uri(ctx.cfg, "gold", "predictions")
    ctx.watch({"predictions": out_uri})
    with ctx.step("resolve_model") as st:
        version = export.resolve_version(ctx.cfg.models_path, model_version or ctx.cfg.score.model_version)
        model_dir = ctx.cfg.models_path / version
        st.detail = {"version": version, "path": str(model_dir)}
    if not delta_io.exists(ctx.spark, silver_uri):
        raise InputError(f"silver.reviews not found at {silver_uri}: run `make clean-reviews` first")
    scored_at = datetime.now(UTC).replace(microsecond=0)
    with ctx.step("score") as st:
        silver = delta_io.read(ctx.spark, silver_uri)
        # persisted: the MERGE reads its source more than once, and the counts read it first
        scored = score(silver, model_dir, version, scored_at, ctx.cfg.score).persist(HELD)
        counts = {r["predicted_label"]: r["count"] for r in scored.groupBy("predicted_label").count().collect()}
        st.rows_out = n = sum(counts.values())
        st.detail = {"predicted": counts}
    with ctx.step("merge") as st:
        before = delta_io.version(ctx.spark, out_uri)
        delta_io.merge(ctx.spark, scored, out_uri, PREDICTION_KEYS)
        st.rows_in = n
        st.detail = {"table": out_uri, "version_before": before, "version_after": delta_io.version(ctx.spark, out_uri)}
        scored.unpersist()
    ctx.report.summary["score"] = {
        "model_version": version,
        "rows": n,
        "predicted": counts,
        "table": out_uri,
        "scored_at": scored_at.isoformat(),
    }
    return {"model_version": version, "rows": n, "table": out_uri, "report": ctx.report.to_dict()}


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model-version", help="folder name under models_dir, or `latest` (default: score.model_version)")


JOB = Job(
    "score_reviews",
    "Score silver.reviews with a trained model version into gold.predictions.",
    body=lambda ctx, args: run(ctx, model_version=args.model_version),
    options=_options,
)
main = JOB.main

if __name__ == "__main__":
    import sys

    sys.exit(main())
