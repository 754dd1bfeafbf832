"""Benchmark (``make bench-scale``): what a nightly increment of ``clean_reviews`` costs as the
lakehouse grows. For each ``--factors`` (10 and 100 by default) a ``--near`` lakehouse (the bundled
corpus scaled by :func:`bench.generators.scale_corpus.scale_near`: distinct recombined documents
with 5% planted near copies, 100 files per copy) gets three runs, each a real ``spark-submit
pipelines/clean_reviews.py`` as users run it:

a. ``full``: 99% of the files into a fresh lakehouse (kept under ``--work`` and reused by a later
   ``--reuse`` run: at 100x it takes most of an hour);
b. ``plus_1pct``: the held-back 1% of the files;
c. ``fixed``: the same 3,471 new reviews at every factor (10 files made by ``scale_near`` from the
   bundled corpus with another seed: new documents, 5% of them near copies of published reviews).

Recorded per run: wall and CPU seconds, peak resident memory, its run report's stages (seconds,
Spark jobs, the driver JVM's heap peak) and, for every Delta commit it made, its operation and
metrics (rows copied, inserted, updated, deleted; files and bytes after skipping; scan and rewrite
times). Derived: the fixed increment at the largest factor over the smallest, +1% over full per
factor, rows copied over rows changed per table and run; a plot of increment seconds against the
lakehouse's bronze rows. ``--compare-rev REV`` also runs the full runs with another commit's code
(before and after in one sitting). Not a test: it asserts nothing.

    python -m bench.speed.scale --factors 10 100 --work /var/tmp/reviewlake-scale
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.generators.scale_corpus import scale_near
from bench.record import ROOT, Record, log
from bench.speed.incremental import Jobs, make_landing, prepare_code
from reviewlake.jobs.nightly import submit_command

FIXED_LINES = 3471
TABLES = ("bronze", "quarantine", "files", "silver", "disposition", "index")


def fixed_increment(work: Path, seed: int) -> Path:
    """``work/fixed``: 10 files holding the first 3,471 lines of copy 1 of a ``scale_near`` corpus
    made with ``seed`` (made once, reused)."""
    out = work / "fixed"
    if out.is_dir():
        return out
    scaled = work / "fixed_src"
    scale_near(ROOT / "data" / "landing", scaled, 2, seed)
    lines = [line for f in sorted((scaled / "copy_0001").glob("*.txt")) for line in f.read_text("utf-8").splitlines()]
    lines = lines[:FIXED_LINES]
    for j in range(10):
        part = out / f"part_{j:02d}" / ("pos.txt" if j % 2 else "neg.txt")
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_text("\n".join(lines[j * len(lines) // 10 : (j + 1) * len(lines) // 10]) + "\n", encoding="utf-8")
    shutil.rmtree(scaled)
    return out


def changed_rows(run: dict) -> dict:
    """Per table: rows the run's commits copied (wrote again unchanged), and rows they inserted,
    updated or deleted."""
    out = {}
    for table, commits in ((run.get("spark") or {}).get("delta_commit_metrics") or {}).items():
        figures = [commit_rows(c) for c in commits]
        copied, changed = sum(f[0] for f in figures), sum(f[1] for f in figures)
        out[table] = {"copied": copied, "changed": changed, "copied_over_changed": round(copied / max(changed, 1), 3)}
    return out


def commit_rows(c: dict) -> tuple[int, int]:
    """(rows copied, rows inserted, updated or deleted) by one commit's metrics. A MERGE counts
    both. A WRITE's ``numCopiedRows`` also counts the rows of files it re-added with a deletion
    vector, which it did not write: its copies are the rows of the files it wrote
    (``rowsInNewFiles``) that are not new."""
    if c.get("operation") == "MERGE":
        changed = sum(c.get(k, 0) for k in ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsDeleted"))
        return c.get("numTargetRowsCopied", 0), changed
    new = c.get("numOutputRows", 0) - c.get("numCopiedRows", 0)
    copied = c["rowsInNewFiles"] - new if "rowsInNewFiles" in c else c.get("numCopiedRows", 0)
    return copied, new + c.get("numDeletedRows", 0)


def lakehouse(args: argparse.Namespace, jobs_for, factor: int, work: Path) -> dict:
    """The three runs on the ``factor`` lakehouse (its full run reused where ``--reuse`` finds it)."""
    base, lake, saved = work / f"x{factor}", work / f"x{factor}" / "lake", work / f"x{factor}" / "after_full"
    (base / "logs").mkdir(parents=True, exist_ok=True)
    corpus = None
    if not (args.reuse and saved.is_dir()):
        corpus = make_landing(base, factor, 100, 0.01, args.seed, near=True)
    jobs = jobs_for(base / "landing", base)
    runs = {}
    if args.reuse and saved.is_dir():
        log(f"x{factor}: reusing the full run's lakehouse in {saved}")
        shutil.rmtree(lake, ignore_errors=True)
        shutil.copytree(saved, lake)
        for rel in (base / "new").rglob("*.txt"):
            (base / "landing" / rel.relative_to(base / "new")).unlink(missing_ok=True)
        shutil.rmtree(base / "landing" / "fixed", ignore_errors=True)
    else:
        shutil.rmtree(lake, ignore_errors=True)
        runs["full"] = jobs.run(f"x{factor}_full", lake)
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(lake, saved)
    shutil.copytree(base / "new", base / "landing", dirs_exist_ok=True)
    runs["plus_1pct"] = jobs.run(f"x{factor}_plus_1pct", lake)
    shutil.copytree(fixed_increment(work, args.fixed_seed), base / "landing" / "fixed")
    runs["fixed"] = jobs.run(f"x{factor}_fixed", lake)
    for run in runs.values():
        run["rows"] = changed_rows(run)
    return {"corpus": corpus, "runs": runs}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factors", type=int, nargs="+", default=[10, 100])
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--fixed-seed", type=int, default=20261203)
    p.add_argument("--spark-submit", default="spark-submit --driver-memory 6g", help="command that runs the job")
    p.add_argument("--work", type=Path, default=None, help="folder kept between runs (default: a temp dir)")
    p.add_argument("--reuse", action="store_true", help="start from the full runs' lakehouses left in --work")
    p.add_argument("--code-rev", help="run the code of this git commit (a snapshot of it), not the working tree's")
    p.add_argument("--compare-rev", help="also time the full runs with this commit's code (before/after)")
    p.add_argument("--live-code", action="store_true", help="run the working tree's code, not a snapshot")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a job setting for every run")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    rec = Record("scale")
    submit = submit_command(args.spark_submit)
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewlake-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    code_root, code = prepare_code(args, work)
    conf = [a for kv in args.conf for a in ("--conf", kv)]

    def jobs_for(landing: Path, base: Path) -> Jobs:
        return Jobs(submit, code_root, landing, base, conf)

    result = {"code": code, "command": jobs_for(Path("<landing>"), work).command(), "factors": {}}
    for factor in args.factors:
        result["factors"][factor] = lakehouse(args, jobs_for, factor, work)
        rec.write(result | {"derived": derived(result)})  # a cut-off benchmark keeps what it finished
    if args.compare_rev:

        def keep(done: dict) -> None:
            so_far = result | {"compare": done}
            rec.write(so_far | {"derived": derived(so_far)})

        result["compare"] = compare_full_runs(args, submit, work, conf, keep)
    result["derived"] = derived(result)
    plot(result, rec.path(ext=".png"))
    rec.write(result)


def compare_full_runs(
    args: argparse.Namespace, submit: list[str], work: Path, conf: list[str], keep: Callable[[dict], None]
) -> dict:
    """The full runs again with ``--compare-rev``'s code, into scratch lakehouses; ``keep(out)`` is
    called after each (a cut-off benchmark keeps the ones it finished)."""
    code_root = work / "code_compare"
    shutil.rmtree(code_root, ignore_errors=True)
    from bench.speed.incremental import snapshot_code

    snapshot_code(code_root, args.compare_rev)
    out = {"rev": args.compare_rev, "full": {}}
    for factor in args.factors:
        base = work / f"x{factor}"
        landing = base / "landing_full"
        shutil.rmtree(landing, ignore_errors=True)
        shutil.copytree(base / "landing", landing, ignore=shutil.ignore_patterns("fixed"))
        for rel in (base / "new").rglob("*.txt"):
            (landing / rel.relative_to(base / "new")).unlink(missing_ok=True)
        lake = base / "lake_compare"
        shutil.rmtree(lake, ignore_errors=True)
        out["full"][factor] = Jobs(submit, code_root, landing, base, conf).run(
            f"x{factor}_full_{args.compare_rev}", lake
        )
        shutil.rmtree(lake, ignore_errors=True)
        keep(out)
    return out


def derived(result: dict) -> dict:
    """The ratios the targets are stated in."""
    runs = {f: r["runs"] for f, r in result["factors"].items()}
    out: dict = {"plus_1pct_over_full": {}, "copied_over_changed": {}}
    for f, r in runs.items():
        if "full" in r and "plus_1pct" in r:
            out["plus_1pct_over_full"][f] = round(r["plus_1pct"]["seconds"] / r["full"]["seconds"], 4)
        out["copied_over_changed"][f] = {name: run.get("rows") for name, run in r.items() if name != "full"}
    factors = sorted(f for f in runs if "fixed" in runs[f])
    if len(factors) > 1:
        small, large = runs[factors[0]]["fixed"], runs[factors[-1]]["fixed"]
        out["fixed_largest_over_smallest"] = round(large["seconds"] / small["seconds"], 4)
    before = (result.get("compare") or {}).get("full") or {}
    out["full_over_compare_rev"] = {
        f: round(runs[f]["full"]["seconds"] / run["seconds"], 4)
        for f, run in before.items()
        if "full" in runs.get(f, {})
    }
    return out


def plot(result: dict, path: Path) -> None:
    """Increment seconds (+1% and fixed) against the lakehouse's bronze rows before the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("plus_1pct", "fixed"):
        pts = sorted((f * 35124, r["runs"][name]["seconds"]) for f, r in result["factors"].items() if name in r["runs"])
        if pts:
            ax.plot(*zip(*pts, strict=True), "-o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("bronze rows before the run (corpus lines x factor)")
    ax.set_ylabel("seconds (wall)")
    ax.set_title("clean_reviews increment cost against table size")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
