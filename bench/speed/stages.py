"""Benchmark (issue #7): the whole ``clean_reviews`` job, each of its stages, ``build_features``,
one training epoch (``train_model``) and batch scoring (``score_reviews``) at several scales of the
bundled corpus, against the segmenter limit.

Corpus: :func:`bench.generators.scale_corpus.scale_near` (copy 0 = the bundled corpus; further copies are
distinct documents recombined from sentences of real reviews, with 5% planted near-copies), so
every scale has about ``factor`` times as many distinct reviews to clean, dedupe and segment.
Each job is one ``spark-submit`` (``local[*]``), timed, its per-stage seconds and rows taken from
its run report, with the peak resident memory of the driver (JVM + Python) and of the Python
workers sampled every 0.5 s. The limit: a single-process loop of the configured segmenter over
a sample of the same texts (rows/s per core); ``fraction_of_segmenter_limit`` = job rows/s at
10x / (that rate x cores); ``time_growth_10x_to_100x`` = job seconds at 100x / at 10x (linear is
10; null unless both ran). Training and scoring run up to ``--train-max-factor`` (one epoch,
2 Horovod processes, no TF-IDF baseline; its ``train`` stage includes the Horovod start).

Writes ``bench/results/<UTC date>-stages.json`` and ``-stages.png`` after every factor (a cut-off
run keeps the finished ones); ``--prior FILE`` carries the runs of other factors over from an
earlier results file, each marked with the commit it was measured at. Not a test.

    python -m bench.speed.stages --factors 1 10 [100] [--conf segment.backend=jieba_c] \\
        [--train-max-factor 1] [--prior FILE]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.generators.scale_corpus import scale_near
from bench.record import ROOT, Record, commit_of, log
from bench.speed.timing import timed_submit
from reviewlake.jobs.nightly import submit_command


def run_job(name: str, script: str, args: list[str], submit: list[str], env: dict, reports: Path, logs: Path) -> dict:
    job = script.removesuffix(".py")
    cmd = [*submit, str(ROOT / "pipelines" / script), *args, "--conf", f"reports_dir={reports}"]
    result, report = timed_submit(name, cmd, ROOT, env, job, reports, logs)
    if report:
        result["stages"] = {
            s["name"]: {
                "seconds": s["seconds"],
                "rows_in": s["rows_in"],
                "rows_out": s["rows_out"],
                **({"detail": s["detail"]} if keeps_detail(job, s["name"]) else {}),
            }
            for s in report["stages"]
        }
    return result


def keeps_detail(job: str, stage: str) -> bool:
    """Stages whose report detail the results keep (samples/s, epochs, devices of training)."""
    return (job, stage) == ("train_model", "train")


def segmenter_limit(landing: Path, sample: int, seed: int, conf: list[str]) -> dict:
    """Rows/s of one process segmenting a sample of the landing lines with the configured
    segmenter (user dictionary, HMM, backend), the tokenizer loaded before the clock starts."""
    from reviewlake.core.config import load_config
    from reviewlake.text.segment import SegmenterSpec, segment_text, tokenizer

    lines = [
        line
        for p in sorted(landing.rglob("*.txt"))
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts = random.Random(seed).sample(lines, min(sample, len(lines)))
    spec = SegmenterSpec.from_config(load_config(overrides=conf))
    tokenizer(spec)
    start = time.perf_counter()
    for t in texts:
        segment_text(t, spec)
    seconds = time.perf_counter() - start
    return {
        "backend": spec.backend,
        "hmm": spec.hmm,
        "rows": len(texts),
        "seconds": round(seconds, 2),
        "rows_per_s_per_core": round(len(texts) / seconds, 1),
    }


def plot(runs: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    factors = sorted(int(f) for f in runs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(
        factors,
        [runs[str(f)]["clean_reviews"]["seconds"] for f in factors],
        "o-",
        lw=2,
        label="clean_reviews (whole job)",
    )
    stages = sorted({s for f in factors for s in runs[str(f)]["clean_reviews"].get("stages", {})})
    for s in stages:
        ax.plot(
            factors,
            [runs[str(f)]["clean_reviews"].get("stages", {}).get(s, {}).get("seconds", float("nan")) for f in factors],
            ".--",
            label=s,
        )
    for job, marker in (("build_features", "s-"), ("train_model", "^-"), ("score_reviews", "v-")):
        if all(job in runs[str(f)] for f in factors):
            ax.plot(factors, [runs[str(f)][job]["seconds"] for f in factors], marker, label=f"{job} (whole job)")
    lo = runs[str(factors[0])]["clean_reviews"]["seconds"]
    ax.plot(factors, [lo * f / factors[0] for f in factors], ":", color="grey", label="linear from the first point")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("corpus scale (x bundled corpus)")
    ax.set_ylabel("seconds")
    ax.set_title("reviewlake on 2 cores: time against scale")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def write_results(
    rec: Record, stem: Path, runs: dict, cores: int, submit: list[str], conf: list[str], seed: int
) -> None:
    """Write ``<stem>.json`` (runs, fraction of the segmenter limit, growth 10x->100x) and the plot."""
    runs = dict(sorted(runs.items(), key=lambda kv: int(kv[0])))
    result = {
        "issue": 7,
        "command": " ".join([*submit, "pipelines/<job>.py", "…", *conf]),
        "corpus": f"bench.generators.scale_corpus.scale_near of the bundled corpus, seed {seed}",
        "runs": runs,
    }
    if "10" in runs and runs["10"]["clean_reviews"]["exit_code"] == 0:
        limit = runs["10"]["segmenter_limit"]["rows_per_s_per_core"] * cores
        result["fraction_of_segmenter_limit"] = round(runs["10"]["clean_reviews"]["rows_per_s"] / limit, 4)
        result["fraction_target"] = 0.85
    result["time_growth_10x_to_100x"] = (
        round(runs["100"]["clean_reviews"]["seconds"] / runs["10"]["clean_reviews"]["seconds"], 2)
        if all(runs.get(f, {}).get("clean_reviews", {}).get("exit_code") == 0 for f in ("10", "100"))
        else None
    )
    rec.write(result, Path(f"{stem}.json"))
    plot(runs, Path(f"{stem}.png"))
    print(json.dumps({k: result.get(k) for k in ("fraction_of_segmenter_limit", "time_growth_10x_to_100x")}))
    log(f"wrote {stem}.png")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factors", type=int, nargs="+", default=[1, 10])
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--sample", type=int, default=20_000, help="texts in the segmenter-limit loop")
    p.add_argument("--conf", action="append", default=[], help="config override for every job, KEY=VALUE")
    p.add_argument("--spark-submit", default="spark-submit --driver-memory 6g")
    p.add_argument("--work", type=Path, default=None)
    p.add_argument("--no-features", action="store_true")
    p.add_argument(
        "--train-max-factor", type=int, default=10, help="train one epoch and score at factors up to this (0: never)"
    )
    p.add_argument("--out", type=Path, default=None)
    p.add_argument(
        "--prior",
        type=Path,
        default=None,
        help="earlier results JSON whose runs at factors not in --factors are carried over "
        "(marked with their commit) into the fraction, growth and plot",
    )
    return p.parse_args()


def carried_over(prior_path: Path, factors: list[int]) -> dict[str, dict]:
    """The runs of ``prior_path`` at factors not in ``factors``, each marked with its origin (an
    older origin it already carries is kept)."""
    prior = json.loads(prior_path.read_text(encoding="utf-8"))
    origin = {"from": prior_path.name, "git_commit": commit_of(prior), "measured_at": prior["measured_at"]}
    return {
        factor: {"carried_over": origin, **run} for factor, run in prior["runs"].items() if int(factor) not in factors
    }


def add_rates(job: dict, rows: int, cores: int) -> None:
    """Rows per second of the whole ``clean_reviews`` job (and per core) and of each stage."""
    job["rows_per_s"] = round(rows / job["seconds"], 1)
    job["rows_per_s_per_core"] = round(rows / job["seconds"] / cores, 1)
    for st in job.get("stages", {}).values():
        if st["rows_in"] and st["seconds"]:
            st["rows_in_per_s"] = round(st["rows_in"] / st["seconds"], 1)


def train_and_score(run: dict, factor: int, base: Path, lake: Path, conf: list[str], job) -> None:
    """One epoch of ``train_model`` (LSTM, no TF-IDF baseline), then ``score_reviews``, into ``run``;
    ``job`` is :func:`run_job` with the submit command, environment and folders bound."""
    models = ["--conf", f"models_dir={base / 'models'}"]
    one_epoch = [
        "--conf",
        "train.epochs=1",
        "--conf",
        "train.tfidf_baseline=false",
        "--conf",
        "train.architecture=lstm",
    ]
    run["train_model"] = job(
        f"x{factor}_train_model", "train_model.py", ["--lakehouse", str(lake), *models, *one_epoch, *conf]
    )
    if run["train_model"]["exit_code"] == 0:
        run["score_reviews"] = job(
            f"x{factor}_score_reviews", "score_reviews.py", ["--lakehouse", str(lake), *models, *conf]
        )
    for job_name, stage in (("train_model", "train"), ("score_reviews", "score")):
        figures = run.get(job_name, {}).get("stages", {}).get(stage, {})
        rows_done = figures.get("rows_in") or figures.get("rows_out")  # scoring reports rows out
        if rows_done and figures.get("seconds"):
            figures["rows_per_s"] = round(rows_done / figures["seconds"], 1)


def run_factor(factor: int, args: argparse.Namespace, work: Path, submit: list[str], env: dict, cores: int) -> dict:
    """The corpus scaled ``factor`` times, the jobs run on it and the segmenter limit measured on it;
    the scratch folders are removed after."""
    conf = [x for c in args.conf for x in ("--conf", c)]
    base = work / f"x{factor}"
    if base.exists():
        shutil.rmtree(base)
    landing, lake, reports, logs = base / "landing", base / "lake", base / "reports", base / "logs"
    logs.mkdir(parents=True)
    log(f"x{factor}: scaling the corpus")
    manifest = scale_near(ROOT / "data" / "landing", landing, factor, args.seed)
    for extra in ("near_truth.jsonl", "manifest.json"):  # not landing data
        (landing / extra).rename(base / extra)
    rows = manifest.get("lines") or sum(1 for f in landing.rglob("*.txt") for _ in f.open(encoding="utf-8"))
    job = functools.partial(run_job, submit=submit, env=env, reports=reports, logs=logs)
    clean_args = ["--input", str(landing), "--lakehouse", str(lake), *conf]
    run = {"rows": rows, "clean_reviews": job(f"x{factor}_clean_reviews", "clean_reviews.py", clean_args)}
    add_rates(run["clean_reviews"], rows, cores)
    if not args.no_features and run["clean_reviews"]["exit_code"] == 0:
        run["build_features"] = job(f"x{factor}_build_features", "build_features.py", ["--lakehouse", str(lake), *conf])
    if factor <= args.train_max_factor and run.get("build_features", {}).get("exit_code") == 0:
        train_and_score(run, factor, base, lake, conf, job)
    log(f"x{factor}: segmenter limit on {args.sample} texts")
    run["segmenter_limit"] = segmenter_limit(landing, args.sample, args.seed, args.conf)
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(landing, ignore_errors=True)
    shutil.rmtree(base / "models", ignore_errors=True)
    return run


def main() -> None:
    args = parse_args()
    rec = Record("stages")
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewlake-bench-stages-"))
    work.mkdir(parents=True, exist_ok=True)
    submit = submit_command(args.spark_submit)
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    conf = [x for c in args.conf for x in ("--conf", c)]
    cores = os.cpu_count() or 1
    runs = carried_over(args.prior, args.factors) if args.prior else {}
    stem = args.out or rec.path(ext="")
    for factor in args.factors:
        runs[str(factor)] = run_factor(factor, args, work, submit, env, cores)
        write_results(rec, stem, runs, cores, submit, conf, args.seed)  # a cut-off run keeps finished factors


if __name__ == "__main__":
    main()
