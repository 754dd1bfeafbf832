"""Benchmark (issue #5): an incremental run of ``clean_reviews`` that adds 1% new landing files,
and a no-op rerun, against the full run, on the bundled corpus scaled ``--factor`` times.

Landing folder: :func:`bench.generators.scale_corpus.scale` (``--factor`` shuffled copies of ``pos.txt`` /
``neg.txt``), each copy's files cut into ``--files-per-copy`` files in all
(``copy_<k>/part_<j>/pos.txt``: the name keeps the label), deterministic by ``--seed``. A
``--new-fraction`` (1%) of the files, drawn by the seed, is held back; it must be a whole number
of files (1,000 files and 10 new ones at ``--factor 10``). With ``--near`` the copies come from
:func:`bench.generators.scale_corpus.scale_near` instead: copy 0 is the bundled corpus, further copies are
distinct documents recombined from sentences of its reviews with 5% planted near-copies, so new
files bring mostly new reviews (the common nightly case) rather than exact copies of ten old ones
(the worst case for incremental dedupe: every new row reopens a cluster).

Each run is a real ``spark-submit pipelines/clean_reviews.py --input <landing> --lakehouse <lake>
--conf reports_dir=<dir>`` subprocess, as users run it (JVM start included), timed by wall clock:

a. ``full``: the held-in 99% into a fresh lakehouse;
b. ``incremental``: after the held-back files are copied into the landing folder;
c. ``noop``: again, nothing new.

Recorded per run: wall seconds, CPU seconds of the process tree, the load average before it,
its exit code, the stage seconds / rows / details of its run report, and the Delta version of
every table after it (a no-op run should commit nothing). Ratios incremental/full and noop/full
are set against the targets 0.10 and 0.05. Optional (``--no-verify`` skips it): a fresh full run
over all files into a second lakehouse, whose silver and ledger must equal those of (b) row for
row (batch ids aside).

The jobs run a snapshot of ``pipelines/``, ``reviewlake/`` and ``conf/`` taken at the start (a long
benchmark in a shared working tree must not mix code versions between its runs); a digest of the
snapshot is recorded beside the stamp's commit (:mod:`bench.record`). ``--live-code`` runs the
working tree instead, ``--code-rev`` the code of another commit.

Writes ``bench/results/<UTC date>-incremental.json``. Not a test: it asserts nothing about speed.

    python -m bench.speed.incremental --factor 10
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.generators.scale_corpus import scale, scale_near
from bench.record import ROOT, Record, git, log
from bench.speed.timing import timed_submit
from reviewlake.core.run_state import delta_version
from reviewlake.jobs.nightly import submit_command

TARGETS = {"incremental_over_full": 0.10, "noop_over_full": 0.05}
CODE_DIRS = ("pipelines", "reviewlake", "conf")
TABLES = (
    "bronze/reviews_raw",
    "bronze/quarantine",
    "bronze/files",
    "silver/reviews",
    "silver/dedupe_index",
    "silver/disposition",
)


# ------------------------------------------------------------------------------- the corpus
def make_landing(
    work: Path, factor: int, files_per_copy: int, new_fraction: float, seed: int, near: bool = False
) -> dict:
    """Write ``work/landing`` (the held-in files) and ``work/new`` (the held-back files, same
    relative paths); returns the numbers."""
    sources = sorted((ROOT / "data" / "landing").glob("*.txt"))
    if files_per_copy % len(sources):
        raise SystemExit(f"--files-per-copy must be a multiple of {len(sources)} (one part per source file)")
    parts = files_per_copy // len(sources)
    total = factor * files_per_copy
    n_new = round(total * new_fraction)
    if n_new < 1 or abs(n_new - total * new_fraction) > 1e-9:
        raise SystemExit(f"{new_fraction:.2%} of {total} files is not a whole number of files")
    scaled, landing, new = work / "scaled", work / "landing", work / "new"
    for d in (landing, new):
        if d.exists():
            shutil.rmtree(d)
    if near:
        lines = scale_near(ROOT / "data" / "landing", scaled, factor, seed)["lines"]
        for extra in scaled.glob("*.json*"):  # truth and manifest: not landing data
            extra.unlink()
    else:
        lines = scale(ROOT / "data" / "landing", scaled, factor, seed)
    files = []
    for copy in sorted(scaled.iterdir()):
        for source in sorted(copy.glob("*.txt")):
            rows = source.read_text(encoding="utf-8").splitlines()
            for j in range(parts):
                rel = Path(copy.name) / f"part_{j:03d}" / source.name
                target = landing / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                chunk = rows[j * len(rows) // parts : (j + 1) * len(rows) // parts]
                target.write_text("\n".join(chunk) + "\n", encoding="utf-8")
                files.append((rel, len(chunk)))
    shutil.rmtree(scaled)
    held = sorted(random.Random(seed).sample(files, n_new))
    for rel, _ in held:
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(landing / rel), str(new / rel))
    return {
        "factor": factor,
        "seed": seed,
        "generator": "scale_near" if near else "scale",
        "lines": lines,
        "files": total,
        "files_per_copy": files_per_copy,
        "new_files": n_new,
        "new_fraction": new_fraction,
        "new_lines": sum(n for _, n in held),
        "new_file_list": [str(rel) for rel, _ in held],
    }


# --------------------------------------------------------------------------- code and git
def snapshot_code(target: Path, rev: str | None = None) -> str:
    """Copy the code the job runs into ``target`` (the jobs then run with it as working directory:
    Python workers put their working directory first on ``sys.path``, and the config's relative
    paths resolve there; ``jars`` links to the fetched jars); returns a digest of what was copied.
    ``rev``: the code of that git commit instead of the working tree (before/after comparisons
    in one sitting)."""
    digest = hashlib.sha256()
    if rev:
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", rev, *CODE_DIRS], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    for name in CODE_DIRS if not rev else ():
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(target)).encode() + b"\0" + path.read_bytes())
    (target / "jars").symlink_to(ROOT / "jars")
    return digest.hexdigest()


# ------------------------------------------------------------------------------- the runs
def table_versions(lake: Path) -> dict[str, int | None]:
    """Latest Delta version of each table, from its ``_delta_log`` (no Spark needed)."""
    return {table: delta_version(f"file:{lake / table}") for table in TABLES}


def timed_run(name: str, cmd: list[str], cwd: Path, env: dict, lake: Path, reports: Path, logs: Path) -> dict:
    """One spark-submit of the job, timed; its report's figures and the table versions after it."""
    result, report = timed_submit(name, cmd, cwd, env, "clean_reviews", reports, logs)
    if report:
        result["report_seconds_total"] = report["seconds_total"]
        result["stage_seconds"] = {s["name"]: s["seconds"] for s in report["stages"]}
        result["spark"] = report["summary"].get("spark")  # Spark jobs and Delta commits, counted
        result["stages"] = [
            {k: s[k] for k in ("name", "seconds", "rows_in", "rows_out")}
            | {"spark_jobs": s.get("spark_jobs")}
            | {"detail": {k: v for k, v in s["detail"].items() if k != "rules"}}
            for s in report["stages"]
        ]
        silver = report["summary"].get("silver")
        if silver:
            result["silver"] = {k: silver[k] for k in ("bronze_rows", "silver_rows", "outcomes", "changes", "deleted")}
    result["table_versions"] = table_versions(lake)
    return result


def compare(lake_a: Path, lake_b: Path, reports: Path) -> dict:
    """Row-for-row differences of silver and the ledger of two lakehouses (batch ids aside)."""
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark

    spark = get_spark(
        load_config(overrides=[f"lakehouse={lake_b}", f"reports_dir={reports}", f"spark.jars_dir={ROOT / 'jars'}"])
    )
    columns = {
        "silver/reviews": ["review_id", "text", "text_hash", "label", "tokens", "dup_cluster_id", "minhash_bands"],
        "silver/disposition": ["review_id", "outcome", "rule", "survivor_id", "detail"],
        "silver/dedupe_index": ["review_id", "text_hash", "source_label", "label", "dup_cluster_id", "outcome"],
    }
    out = {}
    for table, cols in columns.items():
        a = spark.read.format("delta").load(str(lake_a / table)).select(*cols)
        b = spark.read.format("delta").load(str(lake_b / table)).select(*cols)
        out[table] = {
            "rows_incremental": a.count(),
            "rows_full": b.count(),
            "only_in_incremental": a.exceptAll(b).count(),
            "only_in_full": b.exceptAll(a).count(),
        }
    spark.stop()
    return out


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--files-per-copy", type=int, default=100)
    p.add_argument("--new-fraction", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--near", action="store_true", help="distinct recombined documents (scale_near), not exact copies")
    p.add_argument("--spark-submit", default="spark-submit --driver-memory 6g", help="command that runs the job")
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir, removed at the end)")
    p.add_argument("--no-verify", action="store_true", help="skip the optional fresh full run over all files")
    p.add_argument("--live-code", action="store_true", help="run the working tree's code, not a snapshot")
    p.add_argument("--code-rev", help="run the code of this git commit (a snapshot of it), not the working tree's")
    p.add_argument(
        "--out", type=Path, default=None, help="result file (default: bench/results/<UTC date>-incremental.json)"
    )
    p.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a job setting for every run (repeatable), e.g. a Spark or Delta option to compare",
    )
    p.add_argument(
        "--reuse-full",
        action="store_true",
        help="with --work of an earlier run: start from the lakehouse and figures its full run left "
        "(work/after_full) instead of running it again (for iterating on the incremental path)",
    )
    return p.parse_args()


def prepare_code(args: argparse.Namespace, work: Path) -> tuple[Path, dict]:
    """The folder the jobs run from (a snapshot under ``work/code`` unless ``--live-code``) and
    what the result records of it."""
    code_root, digest = ROOT, None
    # the code the jobs ran: --code-rev's commit, else the working tree at the stamp's commit (git.commit)
    code = {"code_rev": git("rev-parse", "--short", args.code_rev) if args.code_rev else None}
    if not args.live_code:
        code_root = work / "code"
        if code_root.exists():
            shutil.rmtree(code_root)
        digest = snapshot_code(code_root, args.code_rev)
    code |= {"ran": "snapshot taken at start" if digest else "live working tree", "snapshot_sha256": digest}
    return code_root, code


@dataclass
class Jobs:
    """Runs ``clean_reviews`` over ``landing`` (one timed spark-submit per run) from ``code_root``."""

    submit: list[str]
    code_root: Path
    landing: Path
    work: Path
    conf: list[str]

    def env(self) -> dict:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(self.code_root), os.environ.get("PYTHONPATH")]))
        )
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        return env

    def run(self, name: str, lake: Path) -> dict:
        reports = self.work / "reports" / name
        cmd = [
            *self.submit,
            str(self.code_root / "pipelines" / "clean_reviews.py"),
            *("--input", str(self.landing), "--lakehouse", str(lake), "--conf", f"reports_dir={reports}"),
            *self.conf,
        ]
        return timed_run(name, cmd, self.code_root, self.env(), lake, reports, self.work / "logs")

    def command(self) -> str:
        """The command line of a run, its folders as placeholders."""
        placeholders = ("--input", "<landing>", "--lakehouse", "<lake>", "--conf", "reports_dir=<dir>")
        return shlex.join([*self.submit, "pipelines/clean_reviews.py", *placeholders, *self.conf])


def landing_folder(args: argparse.Namespace, work: Path, after_full: Path) -> tuple[dict, dict | None]:
    """The corpus in ``work/landing`` (held-back files in ``work/new``): made afresh, or with
    ``--reuse-full`` as the full run saved in ``after_full`` saw it (that run returned too)."""
    if args.reuse_full and (after_full / "full.json").is_file():
        saved = json.loads((after_full / "full.json").read_text(encoding="utf-8"))
        corpus = saved["corpus"]
        for rel in corpus["new_file_list"]:  # the landing folder as it was for the full run
            (work / "landing" / rel).unlink(missing_ok=True)
        log(f"reusing the full run of {saved['measured_at']} (corpus x{corpus['factor']}) from {after_full}")
        return corpus, saved
    log(f"scaling the corpus x{args.factor} into {work}")
    return make_landing(work, args.factor, args.files_per_copy, args.new_fraction, args.seed, args.near), None


def full_run(jobs: Jobs, lake: Path, after_full: Path, saved: dict | None, corpus: dict, rec: Record) -> dict:
    """The full run's figures: reused from ``saved`` (its lakehouse copied back), or run and then
    saved in ``after_full`` for a later ``--reuse-full``."""
    if saved:
        shutil.copytree(after_full / "lake", lake)
        return saved["full"] | {"reused_from": saved["measured_at"]}
    full = jobs.run("full", lake)
    if full["exit_code"] == 0:
        if after_full.exists():
            shutil.rmtree(after_full)
        shutil.copytree(lake, after_full / "lake")
        state = {"measured_at": rec.started.isoformat(timespec="seconds"), "corpus": corpus, "full": full}
        (after_full / "full.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    return full


def ratios(runs: dict) -> dict:
    """Wall and CPU seconds of the incremental and no-op runs over the full run's, against the targets."""
    out = {}
    for key, name in (("incremental_over_full", "incremental"), ("noop_over_full", "noop")):
        if name in runs and runs[name]["exit_code"] == 0:
            ratio = runs[name]["seconds"] / runs["full"]["seconds"]
            cpu_ratio = runs[name]["cpu_seconds"] / max(runs["full"]["cpu_seconds"], 1e-9)
            out[key] = {"wall": round(ratio, 4), "cpu": round(cpu_ratio, 4), "target": TARGETS[key]}
            out[key]["met"] = ratio <= TARGETS[key]
    return out


def verify(jobs: Jobs, lake: Path) -> dict:
    """A fresh full run over all files into a second lakehouse, compared row for row with ``lake``."""
    lake_all = jobs.work / "lake_all"
    ref = jobs.run("full_all_files", lake_all)
    out = {
        "optional": True,
        "what": "fresh full run over all files into a second lakehouse; silver, "
        "dedupe index and ledger compared row for row with the lakehouse after the incremental run",
        "run": ref,
    }
    if ref["exit_code"] == 0:
        out["tables"] = compare(lake, lake_all, jobs.work / "reports" / "compare")
        out["equal"] = all(
            t["only_in_incremental"] == 0 and t["only_in_full"] == 0 and t["rows_incremental"] == t["rows_full"]
            for t in out["tables"].values()
        )
    return out


def main() -> None:
    args = parse_args()
    rec = Record("incremental")

    submit = submit_command(args.spark_submit)
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewlake-bench-inc-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    code_root, code = prepare_code(args, work)
    after_full = work / "after_full"
    corpus, saved = landing_folder(args, work, after_full)
    landing, new = work / "landing", work / "new"
    jobs = Jobs(submit, code_root, landing, work, [a for kv in args.conf for a in ("--conf", kv)])

    lake = work / "lake"
    for d in (lake, work / "lake_all", work / "reports"):
        if d.exists():
            shutil.rmtree(d)
    runs = {"full": full_run(jobs, lake, after_full, saved, corpus, rec)}
    if runs["full"]["exit_code"] == 0:
        shutil.copytree(new, landing, dirs_exist_ok=True)
        runs["incremental"] = jobs.run("incremental", lake)
        if runs["incremental"]["exit_code"] == 0:
            runs["noop"] = jobs.run("noop", lake)

    result = {"issue": 5, "code": code, "command": jobs.command(), "corpus": corpus, "runs": runs, "targets": TARGETS}
    if ratios(runs):
        result["ratios"] = ratios(runs)
    if not args.no_verify and "noop" in runs:
        result["verify"] = verify(jobs, lake)
    else:
        result["verify"] = {"optional": True, "skipped": True}

    seconds = {"seconds": {n: r["seconds"] for n, r in runs.items()}}
    print(json.dumps({k: result[k] for k in ("corpus", "ratios") if k in result} | seconds, indent=2))
    rec.write(result, args.out, suffix="_near" if args.near else "")
    failed = any(r["exit_code"] != 0 for r in runs.values()) or result["verify"].get("run", {}).get("exit_code", 0) != 0
    if failed:
        log(f"a run failed: logs kept under {logs}")
        sys.exit(1)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
