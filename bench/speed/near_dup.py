"""Benchmark: near-duplicate detection (``dedupe.near_edges`` + ``connected_components``) against
Spark ML's ``MinHashLSH.approxSimilarityJoin`` on the same documents, at several corpus sizes.

Corpus per factor N: :func:`bench.generators.scale_corpus.scale_near` (copy 0 = the bundled corpus, further
copies = distinct recombined documents plus 5% planted near-copies with known truth). Documents
are the raw lines keyed by :func:`reviewlake.lake.dedupe.dedupe_key` (the cleaning rules are skipped:
this measures near-dedupe, not cleaning). Exact duplicates of the key are collapsed first (the
smallest line id represents its key) and only keys of at least ``dedupe.near_min_chars``
characters take part: both methods get this same population.

* **ours**: ``near_edges`` (MinHash in an Arrow UDF, bands x rows from ``dedupe.*``, candidate
  self-join on band buckets, exact Jaccard verification) then ``connected_components``; timed
  until the verified edges and the component of every node are materialised.
* **MinHashLSH**: the same character n-gram shingles of the same keys (``transform`` /
  ``substring`` in SQL, ``HashingTF(binary=True, numFeatures=2^30)``: set semantics, collisions
  negligible), ``MinHashLSH(numHashTables=T)``, ``approxSimilarityJoin(v, v, 1 - threshold + 1e-9)``
  (it keeps distance < threshold; the epsilon makes it Jaccard >= threshold as ours), pairs
  a < b collected. ``MinHashLSH`` has OR-amplification only (one hash per table), so T is the
  fewest tables that catch a pair at the threshold with probability >= ``dedupe.min_recall``:
  ``1 - (1 - 0.8)^3 = 0.992`` (ours: 18 bands x 7 rows, 0.9855). Its run has a wall-clock cap
  (``--mh-cap-s``): the job group is cancelled and "did not finish" recorded.

Recall: planted pairs (by representative) whose keys differ, are long enough and have exact
key Jaccard >= threshold; where the population is small enough (``--exact-truth-max``), also
precision/recall against the exact all-pairs truth of :func:`bench.quality.near_dup.truth_pairs`.

Writes ``bench/results/<UTC date>-near_dup_bench.json`` (after every factor). Not a test.

    python -m bench.speed.near_dup --factors 1 10 100
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generators.scale_corpus import MANIFEST_FILE, TRUTH_FILE, scale_near
from bench.record import ROOT, Record, log
from bench.speed.timing import tree_cpu_seconds


def corpus(
    work: Path, factor: int, seed: int, near_fraction: float, min_chars: int, ngram: int
) -> tuple[Path, dict, float | None]:
    """The scaled folder for ``factor`` (reused when its manifest matches), its manifest and the
    seconds spent generating it (None when reused)."""
    folder = work / f"near_x{factor}"
    manifest_path = folder / MANIFEST_FILE
    if manifest_path.is_file():
        m = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (m.get("factor"), m.get("seed"), m.get("near_fraction"), m.get("min_chars"), m.get("ngram")) == (
            factor,
            seed,
            near_fraction,
            min_chars,
            ngram,
        ) and (folder / "docs.parquet").is_file():
            return folder, m, None
    start = time.perf_counter()
    m = scale_near(ROOT / "data" / "landing", folder, factor, seed, near_fraction, min_chars, ngram)
    write_docs_parquet(folder)
    return folder, m, time.perf_counter() - start


def write_docs_parquet(folder: Path) -> None:
    """(id, text) of every line of the scaled folder as one Parquet file, ids as in the truth."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids, texts = [], []
    for path in sorted(folder.glob("copy_*/*.txt")):
        prefix = f"{path.parent.name}/{path.name}:"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            ids.append(prefix + str(n))
            texts.append(line)
    pq.write_table(pa.table({"id": ids, "text": texts}), folder / "docs.parquet", row_group_size=100_000)


def mh_tables(threshold: float, min_recall: float) -> int:
    """Fewest OR-amplified MinHash tables catching a pair at ``threshold`` with >= ``min_recall``."""
    return max(1, math.ceil(math.log(1.0 - min_recall) / math.log(1.0 - threshold)))


def run_capped(spark, fn, cap_s: float, group: str) -> tuple[object, float, str | None, float]:
    """Run ``fn()`` in a thread whose Spark jobs form job group ``group``; after ``cap_s`` seconds
    the group is cancelled. Returns (result or None, seconds, None or why it has no result,
    CPU seconds of this process tree meanwhile)."""
    from pyspark import InheritableThread

    sc = spark.sparkContext
    box: dict = {}

    def target():
        sc.setJobGroup(group, group, interruptOnCancel=True)
        try:
            box["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - reported in the result
            box["error"] = exc

    cpu0 = tree_cpu_seconds(os.getpid())
    start = time.perf_counter()
    thread = InheritableThread(target=target, daemon=True)
    thread.start()
    thread.join(cap_s)
    if thread.is_alive():
        sc.cancelJobGroup(group)
        seconds = time.perf_counter() - start
        cpu = tree_cpu_seconds(os.getpid()) - cpu0
        thread.join(300)
        return None, seconds, f"did not finish within {cap_s:.0f} s (job group cancelled)", cpu
    seconds = time.perf_counter() - start
    cpu = tree_cpu_seconds(os.getpid()) - cpu0
    if "error" in box:
        return None, seconds, f"failed: {type(box['error']).__name__}: {str(box['error'])[:300]}", cpu
    return box["value"], seconds, None, cpu


def population(spark, parquet: Path, min_chars: int):
    """(population review_id, text_key: one row per distinct key of >= ``min_chars`` characters,
    its id the smallest line id of the key (persisted, in ``spark.sql.shuffle.partitions``
    partitions sized here); every line's id, rep (representative), text_key; counts)."""
    from pyspark.sql import functions as F
    from pyspark.storagelevel import StorageLevel

    from reviewlake.lake import dedupe

    docs = spark.read.parquet(str(parquet))
    keyed = dedupe.with_text_hash(docs.withColumnRenamed("id", "review_id")).select(
        "review_id", "text_key", "text_hash"
    )
    reps = keyed.groupBy("text_hash").agg(F.min("review_id").alias("rep"), F.first("text_key").alias("text_key"))
    rep_of = keyed.join(reps.select("text_hash", "rep"), "text_hash").select("review_id", "rep", "text_key")
    counts = {"lines": docs.count(), "distinct_keys": reps.count()}
    partitions = max(8, min(400, counts["distinct_keys"] // 25_000))
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    pop = (
        reps.where(F.length("text_key") >= min_chars)
        .select(F.col("rep").alias("review_id"), "text_key")
        .repartition(partitions)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    counts["population"] = pop.count()
    counts["shuffle_partitions"] = partitions
    return pop, rep_of, counts


def run_ours(spark, pop, params, threshold: float, min_chars: int, cap_s: float):
    from pyspark.storagelevel import StorageLevel

    from reviewlake.lake import dedupe

    def fn():
        edges, bands = dedupe.near_edges(pop, params, threshold, min_chars)
        edges = edges.persist(StorageLevel.MEMORY_AND_DISK)
        n_edges = edges.count()
        comps = dedupe.connected_components(edges).persist(StorageLevel.MEMORY_AND_DISK)
        n_nodes = comps.count()
        return edges, bands, comps, n_edges, n_nodes

    return run_capped(spark, fn, cap_s, "near_dup_bench_ours")


def bucket_collisions(exploded) -> int:
    """Sum over (band/table, bucket) of size*(size-1)/2: pairs the LSH join meets before distinct."""
    from pyspark.sql import functions as F

    row = (
        exploded.groupBy("band", "bucket")
        .count()
        .agg(F.sum(F.col("count") * (F.col("count") - 1) / 2).alias("n"))
        .first()
    )
    return int(row["n"] or 0)


def mh_features(pop, ngram: int):
    from pyspark.ml.feature import HashingTF
    from pyspark.sql import functions as F

    grams = pop.select(
        "review_id",
        F.expr(
            f"transform(sequence(1, char_length(text_key) - {ngram - 1}), i -> substring(text_key, i, {ngram}))"
        ).alias("grams"),
    )
    return (
        HashingTF(inputCol="grams", outputCol="features", numFeatures=1 << 30, binary=True)
        .transform(grams)
        .select("review_id", "features")
    )


def run_mh(spark, pop, ngram: int, tables: int, seed: int, threshold: float, cap_s: float):
    from pyspark.ml.feature import MinHashLSH
    from pyspark.sql import functions as F
    from pyspark.storagelevel import StorageLevel

    state: dict = {}

    def fn():
        vec = mh_features(pop, ngram).persist(StorageLevel.MEMORY_AND_DISK)
        state["vec"] = vec
        vec.count()
        model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=tables, seed=seed).fit(vec)
        state["model"] = model
        pairs = (
            model.approxSimilarityJoin(vec, vec, 1.0 - threshold + 1e-9, distCol="dist")
            .select(F.col("datasetA.review_id").alias("a"), F.col("datasetB.review_id").alias("b"), "dist")
            .where(F.col("a") < F.col("b"))
        )
        return [(r.a, r.b) for r in pairs.collect()]

    result, seconds, why, cpu = run_capped(spark, fn, cap_s, "near_dup_bench_minhashlsh")
    return result, seconds, why, cpu, state


def mh_model(pop, ngram: int, tables: int, seed: int) -> dict:
    """The MinHashLSH model and feature vectors of ``pop`` without the join (untimed uses)."""
    from pyspark.ml.feature import MinHashLSH

    vec = mh_features(pop, ngram)
    return {
        "vec": vec,
        "model": MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=tables, seed=seed).fit(vec),
    }


def mh_exploded(model, vec):
    """(band = hash table, bucket = its hash value) of every document."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    return (
        model.transform(vec)
        .select(F.posexplode("hashes").alias("band", "h"))
        .select("band", vector_to_array("h")[0].alias("bucket"))
    )


def mh_hash_found(spark, state: dict, pairs: set, threshold: float) -> set:
    """The pairs of ``pairs`` that ``approxSimilarityJoin`` returns by construction: equal hash
    in at least one table and Jaccard distance of the feature vectors < 1 - threshold + 1e-9."""
    if not pairs:
        return set()
    ids = spark.createDataFrame([(i,) for i in {x for p in pairs for x in p}], "review_id string")
    rows = (
        state["model"]
        .transform(state["vec"].join(ids, "review_id"))
        .select("review_id", "features", "hashes")
        .collect()
    )
    docs = {r.review_id: ([h[0] for h in r.hashes], set(r.features.indices.tolist())) for r in rows}
    found = set()
    for a, b in pairs:
        (ha, fa), (hb, fb) = docs[a], docs[b]
        inter = len(fa & fb)
        same_bucket = any(x == y for x, y in zip(ha, hb, strict=True))
        if same_bucket and 1 - inter / (len(fa) + len(fb) - inter) < 1 - threshold + 1e-9:
            found.add((a, b))
    return found


def planted_truth(spark, folder: Path, rep_of, threshold: float, min_chars: int, ngram: int) -> dict:
    """Planted pairs resolved to representatives: exact-key ones, too-short ones and the near
    truth {(a, b): kind} with exact key Jaccard >= threshold."""
    from pyspark.sql import functions as F

    from reviewlake.lake.minhash import jaccard, shingle_codes

    rows = [json.loads(line) for line in (folder / TRUTH_FILE).read_text(encoding="utf-8").splitlines()]
    if not rows:
        return {"planted": 0, "exact_key": 0, "too_short": 0, "below_threshold": 0, "near": {}}
    truth = spark.createDataFrame(
        [(r["source"], r["copy"], r["kind"]) for r in rows], "source string, copy string, kind string"
    )
    s = rep_of.select(F.col("review_id").alias("source"), F.col("rep").alias("rs"), F.col("text_key").alias("ks"))
    c = rep_of.select(F.col("review_id").alias("copy"), F.col("rep").alias("rc"), F.col("text_key").alias("kc"))
    resolved = truth.join(s, "source").join(c, "copy").collect()
    out = {
        "planted": len(rows),
        "resolved": len(resolved),
        "exact_key": 0,
        "too_short": 0,
        "below_threshold": 0,
        "near": {},
    }
    for r in resolved:
        if r.rs == r.rc:
            out["exact_key"] += 1
        elif min(len(r.ks), len(r.kc)) < min_chars:
            out["too_short"] += 1
        elif jaccard(shingle_codes(r.ks, ngram), shingle_codes(r.kc, ngram)) >= threshold - 1e-12:
            out["near"][tuple(sorted((r.rs, r.rc)))] = r.kind
        else:
            out["below_threshold"] += 1
    return out


def recall(found: set, truth: dict) -> dict:
    if not truth:
        return {"pairs": 0, "found": 0, "recall": None}
    hit = [p for p in truth if p in found]
    by_kind: dict = {}
    for p, kind in truth.items():
        k = by_kind.setdefault(kind, [0, 0])
        k[0] += p in found
        k[1] += 1
    return {
        "pairs": len(truth),
        "found": len(hit),
        "recall": round(len(hit) / len(truth), 4),
        "recall_by_kind": {k: round(v[0] / v[1], 4) for k, v in sorted(by_kind.items())},
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100])
    p.add_argument("--work", type=Path, default=None, help="scaled corpora (reused across runs); default: a temp dir")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--near-fraction", type=float, default=0.05)
    p.add_argument("--mh-cap-s", type=float, default=1800, help="wall-clock cap of one MinHashLSH run")
    p.add_argument("--ours-cap-s", type=float, default=3600, help="wall-clock cap of one run of ours")
    p.add_argument("--mh-tables", type=int, default=None, help="MinHashLSH numHashTables (default: from min_recall)")
    p.add_argument(
        "--mh-max-factor",
        type=int,
        default=None,
        help="skip MinHashLSH above this factor (default: skip only after it did not finish)",
    )
    p.add_argument(
        "--exact-truth-max",
        type=int,
        default=40_000,
        help="all-pairs exact truth only for populations up to this many keys",
    )
    p.add_argument(
        "--no-candidate-counts",
        action="store_true",
        help="skip the (untimed, extra) distinct candidate-pair count of ours",
    )
    p.add_argument("--driver-memory", default="6g")
    p.add_argument(
        "--out", type=Path, default=None, help="result file (default: bench/results/<UTC date>-near_dup_bench.json)"
    )
    return p.parse_args()


@dataclass
class Bench:
    """What the measurement of every factor shares: the options, the session and the dedupe
    parameters (from the configuration), and why MinHashLSH's join is no longer run (once it
    did not finish, or above ``--mh-max-factor``)."""

    args: argparse.Namespace
    spark: object
    params: object  # reviewlake.lake.minhash parameters: bands x rows
    threshold: float
    min_chars: int
    ngram: int
    min_recall: float
    seed: int
    tables: int
    mh_skip_reason: str | None = None

    @classmethod
    def start(cls, args: argparse.Namespace, work: Path) -> Bench:
        from reviewlake.core.config import load_config
        from reviewlake.core.spark import get_spark
        from reviewlake.lake.minhash import default_params

        cfg = load_config(
            overrides=[
                f"lakehouse={work / 'lake'}",
                f"reports_dir={work / 'reports'}",
                f"spark.conf.spark.driver.memory={args.driver_memory}",
                "spark.conf.spark.ui.showConsoleProgress=false",
            ]
        )
        threshold, min_chars, ngram = (
            cfg.dedupe.threshold,
            cfg.dedupe.near_min_chars,
            cfg.dedupe.ngram,
        )
        min_recall, seed = cfg.dedupe.min_recall, cfg.dedupe.seed
        params = default_params(threshold, ngram, cfg.dedupe.max_perm, seed, min_recall)
        tables = args.mh_tables or mh_tables(threshold, min_recall)
        return cls(args, get_spark(cfg), params, threshold, min_chars, ngram, min_recall, seed, tables)

    def description(self) -> dict:
        """The set-up, as the result describes it."""
        args, spark, params, threshold = self.args, self.spark, self.params, self.threshold
        return {
            "spark": {
                "version": spark.version,
                "master": spark.sparkContext.master,
                "driver_memory": args.driver_memory,
            },
            "corpus": "bench.generators.scale_corpus.scale_near of the bundled corpus (copy 0 = pos.txt + neg.txt; "
            f"further copies: recombined distinct documents + {args.near_fraction:.0%} planted near-copies), "
            f"seed {args.seed}",
            "documents": "raw lines keyed by dedupe.dedupe_key (cleaning rules skipped); exact keys collapsed first "
            f"(smallest line id represents its key); keys of >= {self.min_chars} characters take part",
            "parameters": {
                "threshold": threshold,
                "ngram": self.ngram,
                "near_min_chars": self.min_chars,
                "ours": {
                    "bands": params.bands,
                    "rows": params.rows,
                    "num_perm": params.num_perm,
                    "p_candidate_at_threshold": round(params.p_candidate(threshold), 4),
                },
                "minhashlsh": {
                    "numHashTables": self.tables,
                    "p_candidate_at_threshold": round(1 - (1 - threshold) ** self.tables, 4),
                    "features": "HashingTF(binary=True, numFeatures=2^30) of the key's character n-grams",
                    "join_threshold": 1.0 - threshold + 1e-9,
                    "why": "MinHashLSH has one hash per table (OR-amplification only): the fewest tables "
                    f"reaching dedupe.min_recall={self.min_recall} at the threshold, as ours is banded to",
                },
                "mh_cap_s": args.mh_cap_s,
                "ours_cap_s": args.ours_cap_s,
            },
        }

    def warm_up(self) -> float:
        """Start the Python workers, load classes and compile code for both methods on 2,000
        documents (untimed), so that neither timed run pays the session's start-up; seconds."""
        from pyspark.sql import functions as F

        from reviewlake.lake import dedupe

        start = time.perf_counter()
        lines = (ROOT / "data" / "landing" / "pos.txt").read_text(encoding="utf-8").splitlines()[:3000]
        warm = (
            self.spark.createDataFrame([(f"w{i}", t) for i, t in enumerate(lines)], "review_id string, text string")
            .select("review_id", dedupe.dedupe_key(F.col("text")).alias("text_key"))
            .where(F.length("text_key") >= self.min_chars)
            .limit(2000)
            .persist()
        )
        warm.count()
        run_ours(self.spark, warm, self.params, self.threshold, self.min_chars, self.args.ours_cap_s)
        run_mh(self.spark, warm, self.ngram, self.tables, self.seed, self.threshold, self.args.mh_cap_s)
        self.spark.catalog.clearCache()
        return round(time.perf_counter() - start, 1)

    def ours(self, factor: int, pop, n: int) -> tuple[dict, set, dict]:
        """Our near-duplicate search on ``pop`` (``n`` keys), timed, then counted (untimed):
        (figures, verified pairs, component of every node)."""
        from pyspark.sql import functions as F

        from reviewlake.lake import dedupe

        cap = self.args.ours_cap_s
        value, seconds, why, cpu = run_ours(self.spark, pop, self.params, self.threshold, self.min_chars, cap)
        ours: dict = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 1)}
        if why:
            ours["result"] = why
            return ours, set(), {}
        edges, bands, comps_df, n_edges, n_nodes = value
        ours.update(docs_per_s=round(n / seconds, 1), verified_pairs=n_edges, clustered_nodes=n_nodes)
        log(f"factor {factor}: ours {seconds:.1f} s; counting")
        ours_pairs = {tuple(sorted((r.a, r.b))) for r in edges.select("a", "b").collect()}
        comps = {r.node: r.component for r in comps_df.collect()}
        ours["clusters"] = len(set(comps.values()))
        exploded = bands.select(F.posexplode("minhash_bands").alias("band", "bucket"))
        ours["bucket_collision_pairs"] = bucket_collisions(exploded)
        if not self.args.no_candidate_counts:
            t = time.perf_counter()
            ours["candidate_pairs"] = dedupe.candidate_pairs(bands).count()
            ours["candidate_count_seconds_untimed"] = round(time.perf_counter() - t, 1)
        edges.unpersist()
        comps_df.unpersist()
        return ours, ours_pairs, comps

    def minhashlsh(self, factor: int, pop, n: int) -> tuple[dict, set, dict]:
        """MinHashLSH's join on ``pop``, timed (unless skipped), and its hash tables' bucket
        collisions, untimed, also where the join did not run or finish: (figures, pairs found,
        its model and feature vectors)."""
        args = self.args
        mh: dict = {}
        mh_pairs: set = set()
        if self.mh_skip_reason is None and args.mh_max_factor is not None and factor > args.mh_max_factor:
            self.mh_skip_reason = f"join not run above factor {args.mh_max_factor} (--mh-max-factor)"
        state: dict = {}
        if self.mh_skip_reason:
            mh["result"] = self.mh_skip_reason
        else:
            log(f"factor {factor}: MinHashLSH ({self.tables} tables, cap {args.mh_cap_s:.0f} s)")
            pairs, seconds, why, cpu, state = run_mh(
                self.spark, pop, self.ngram, self.tables, self.seed, self.threshold, args.mh_cap_s
            )
            mh.update(seconds=round(seconds, 2), cpu_seconds=round(cpu, 1))
            if why:
                mh["result"] = why
                self.mh_skip_reason = f"join not run: at factor {factor} MinHashLSH {why}"
            else:
                mh_pairs = {tuple(sorted(p)) for p in pairs}
                mh.update(docs_per_s=round(n / seconds, 1), verified_pairs=len(mh_pairs))
        # what its join meets, and which truth pairs it can find at all
        log(f"factor {factor}: MinHashLSH hash tables (untimed)")
        if "model" not in state:
            state = mh_model(pop, self.ngram, self.tables, self.seed)
        mh["bucket_collision_pairs"] = bucket_collisions(mh_exploded(state["model"], state["vec"]))
        return mh, mh_pairs, state

    def exact_truth(self, pop, n: int) -> tuple[set | None, float | None]:
        """The exact all-pairs truth of ``pop`` and its seconds, where ``n`` is small enough."""
        from bench.quality.near_dup import truth_pairs

        if n > self.args.exact_truth_max:
            return None, None
        rows = pop.collect()
        t = time.perf_counter()
        exact = truth_pairs([r.review_id for r in rows], [r.text_key for r in rows], self.ngram, self.threshold)
        return exact, round(time.perf_counter() - t, 1)


def speedup(ours: dict, mh: dict) -> dict:
    """MinHashLSH's seconds over ours, or at least that where it did not finish."""
    if "docs_per_s" in ours and "docs_per_s" in mh:
        return {"speedup": round(mh["seconds"] / ours["seconds"], 2)}
    if "docs_per_s" in ours and str(mh.get("result", "")).startswith("did not finish"):
        return {"speedup_at_least": round(mh["seconds"] / ours["seconds"], 2)}
    return {}


def pairs_found(ours_pairs: set, mh_pairs: set, near: dict, mh_done: bool) -> dict:
    union = ours_pairs | mh_pairs | set(near)
    return {
        "ours_only": len(ours_pairs - mh_pairs),
        "minhashlsh_only": len(mh_pairs - ours_pairs),
        "both": len(ours_pairs & mh_pairs),
        "not_planted": len((ours_pairs | mh_pairs) - set(near)),
        "recall_vs_union_ours": round(len(ours_pairs) / len(union), 4) if union else None,
        "recall_vs_union_minhashlsh": round(len(mh_pairs) / len(union), 4) if union and mh_done else None,
    }


def exact_all_pairs(exact: set, seconds: float, found_by: list[tuple[str, set, bool]]) -> dict:
    """Precision and recall of each (name, pairs found, whether it ran) against the exact truth."""
    ex: dict = {"truth_pairs": len(exact), "seconds": seconds}
    for name, found, ok in found_by:
        if ok:
            hit = len(found & exact)
            ex[name] = {
                "pairs": len(found),
                "in_truth": hit,
                "precision": round(hit / len(found), 4) if found else None,
                "recall": round(hit / len(exact), 4) if exact else None,
            }
    return ex


def growth(runs: list[dict]) -> list[dict]:
    """From each factor to the next where ours finished: documents, seconds and CPU seconds ratios."""
    runs = [r for r in runs if "docs_per_s" in r["ours"]]
    return [
        {
            "from_factor": a["factor"],
            "to_factor": b["factor"],
            "docs_ratio": round(b["population"] / a["population"], 2),
            "ours_seconds_ratio": round(b["ours"]["seconds"] / a["ours"]["seconds"], 2),
            "ours_time_per_doc_ratio": round(
                (b["ours"]["seconds"] / b["population"]) / (a["ours"]["seconds"] / a["population"]), 3
            ),
            "ours_cpu_seconds_ratio": round(b["ours"]["cpu_seconds"] / a["ours"]["cpu_seconds"], 2),
            "ours_cpu_per_doc_ratio": round(
                (b["ours"]["cpu_seconds"] / b["population"]) / (a["ours"]["cpu_seconds"] / a["population"]), 3
            ),
            **(
                {"minhashlsh_seconds_ratio": round(b["minhashlsh"]["seconds"] / a["minhashlsh"]["seconds"], 2)}
                if "docs_per_s" in a["minhashlsh"] and "docs_per_s" in b["minhashlsh"]
                else {}
            ),
        }
        for a, b in itertools.pairwise(runs)
    ]


def run_factor(bench: Bench, work: Path, factor: int) -> dict:
    """Corpus, population, both methods and their recall at one factor."""
    args = bench.args
    log(f"factor {factor}: corpus")
    folder, manifest, gen_s = corpus(work, factor, args.seed, args.near_fraction, bench.min_chars, bench.ngram)
    run: dict = {
        "factor": factor,
        "corpus_lines": manifest["lines"],
        "planted": manifest["planted"],
        "generate_seconds": round(gen_s, 1) if gen_s is not None else "reused",
        "load_before": os.getloadavg(),
    }
    start = time.perf_counter()
    pop, rep_of, counts = population(bench.spark, folder / "docs.parquet", bench.min_chars)
    run.update(counts, prepare_seconds=round(time.perf_counter() - start, 1))
    n = counts["population"]
    log(f"factor {factor}: {counts}; ours")
    ours, ours_pairs, comps = bench.ours(factor, pop, n)
    run["ours"] = ours
    mh, mh_pairs, state = bench.minhashlsh(factor, pop, n)
    mh_done = "docs_per_s" in mh
    run["minhashlsh"] = mh
    run.update(speedup(ours, mh))

    log(f"factor {factor}: recall")
    truth = planted_truth(bench.spark, folder, rep_of, bench.threshold, bench.min_chars, bench.ngram)
    near = truth.pop("near")
    exact, exact_seconds = bench.exact_truth(pop, n)
    mh_hashed = mh_hash_found(bench.spark, state, set(near) | (exact or set()), bench.threshold)
    if "vec" in state:
        state["vec"].unpersist()
    run["planted_truth"] = dict(truth, near_pairs=len(near))
    co_clustered = {p for p in near if comps.get(p[0]) is not None and comps.get(p[0]) == comps.get(p[1])}
    run["recall_planted"] = {
        "ours_pairs": recall(ours_pairs, near),
        "ours_clusters": recall(co_clustered, near),
        "minhashlsh_pairs": recall(mh_pairs, near) if mh_done else None,
        "minhashlsh_by_its_hashes": recall(mh_hashed, near),
    }
    run["pairs_found"] = pairs_found(ours_pairs, mh_pairs, near, mh_done)
    if exact is not None:
        found_by = [
            ("ours", ours_pairs, "docs_per_s" in ours),
            ("minhashlsh", mh_pairs, mh_done),
            ("minhashlsh_by_its_hashes", mh_hashed & exact, True),
        ]
        run["exact_all_pairs"] = exact_all_pairs(exact, exact_seconds, found_by)
    run["load_after"] = os.getloadavg()
    bench.spark.catalog.clearCache()
    return run


def main() -> None:
    args = parse_args()
    rec = Record("near_dup_bench")
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewlake-neardup-bench-"))
    bench = Bench.start(args, work)
    result = {**bench.description(), "runs": []}
    out = args.out or rec.path()
    result["warmup_seconds"] = bench.warm_up()
    for factor in sorted(args.factors):
        run = run_factor(bench, work, factor)
        result["runs"].append(run)
        result["growth"] = growth(result["runs"])
        rec.write(result, out)
        log(f"factor {factor} done: {json.dumps(run, ensure_ascii=False)}")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
