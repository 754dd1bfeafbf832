"""The nightly chain behind ``pipelines/run_all.py`` (``make nightly``, ``make demo``):
clean_reviews -> build_features -> label_issues -> [train_model] -> score_reviews. Plan the
steps, run them in order, stop at the first failure with the step's exit code (exit 6, some input
files not ingested, lets the chain go on and is its exit code at the end).

By default every step runs in this process, one driver and one Spark session for the whole chain:
the JVM start, the session and Delta's warm-up are paid once, not once per job. Each step is still
the job's own ``main`` (its argument parsing, config validation, run lock, run report, exit code
and commit sequence), so a chain behaves like the jobs run one by one; a step that fails stops the
chain with its code. Run the chain itself under ``spark-submit`` (``make nightly`` does) so the
driver gets its memory settings.

``--isolated`` (``nightly.isolated: true``) runs each step as its own ``spark-submit`` of the job
module instead (the commands of the Airflow DAG, deploy/airflow): a step that runs out of memory
or is killed takes no other step down, at the price of a JVM, a session and a Delta warm-up per
step. Each job takes its own run lock, so the chain holds none.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewlake.core.job import Job
from reviewlake.core.settings import Settings
from reviewlake.errors import BY_CODE, EXIT_FILES_FAILED, ConfigError, StepFailed

log = logging.getLogger("run_all")

# Each step runs its job module as a script (``if __name__ == "__main__"``): the same main() as the
# entry scripts under pipelines/, and it needs no checkout beside an installed package.
JOBS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Step:
    name: str
    argv: tuple[str, ...]  # arguments of the job's entry script


def step_failed(step: str, position: str, code: int, skipped: Sequence[str]) -> StepFailed:
    what = BY_CODE[code].short if code in BY_CODE else f"killed by signal {code - 128}" if code > 128 else "error"
    rest = f"; not run: {', '.join(skipped)}" if skipped else ""
    return StepFailed(f"step {position} {step} failed with exit code {code} ({what}){rest}", code)


def common_args(args: argparse.Namespace) -> list[str]:
    """The options every job takes, passed through unchanged."""
    out = ["--lakehouse", args.lakehouse] if args.lakehouse else []
    out += ["--config", args.config] if args.config else []
    for item in args.conf:
        out += ["--conf", item]
    return out + (["-v"] if args.verbose else [])


def plan(args: argparse.Namespace, cfg: Settings) -> list[Step]:
    """The steps to run, in order, with their arguments."""
    common = common_args(args)
    train = cfg.nightly.train if args.train is None else args.train
    steps = [
        Step("clean_reviews", tuple(a for i in args.input for a in ("--input", i)) + tuple(common)),
        Step("build_features", tuple(common)),
        Step("label_issues", tuple(common)),
    ]
    if train:
        steps.append(Step("train_model", tuple(common)))
    model = ["--model-version", args.model_version] if args.model_version else []
    steps.append(Step("score_reviews", tuple(model + common)))
    return steps


def exit_code(returncode: int) -> int:
    """A subprocess return code as a shell would report it (signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def command(submit: Sequence[str], step: Step) -> list[str]:
    return [*submit, str(JOBS / f"{step.name}.py"), *step.argv]


def in_process(step: Step) -> int:
    """Run ``step`` in this process: the job module's ``main`` (its Spark session is this process's)."""
    main = importlib.import_module(f"reviewlake.jobs.{step.name}").main
    try:
        return main(list(step.argv))
    except SystemExit as exc:  # argparse rejected the arguments
        return exc.code if isinstance(exc.code, int) else 2
    finally:  # what one job cached is not the next one's memory
        _clear_cache()


def _clear_cache() -> None:
    """Drop what the last step cached; nothing to do when its JVM died (out of memory): the step
    already failed with its code, which is what the chain reports."""
    from py4j.protocol import Py4JError
    from pyspark.sql import SparkSession

    try:
        session = SparkSession.getActiveSession()
        if session is not None:
            session.catalog.clearCache()
    except (Py4JError, ConnectionError) as exc:
        log.warning("cache not cleared, Spark is gone: %s", type(exc).__name__)


def isolated(submit: Sequence[str]) -> Callable[[Step], int]:
    """Run each step as its own ``spark-submit`` (a fresh driver per job)."""
    return lambda step: subprocess.run(command(submit, step), check=False).returncode


def describe(step: Step, submit: Sequence[str] | None) -> str:
    return (
        shlex.join(command(submit, step))
        if submit is not None
        else f"in-process: reviewlake.jobs.{step.name}.main({shlex.join(step.argv)})"
    )


def run_steps(steps: Sequence[Step], runner: Callable[[Step], int], submit: Sequence[str] | None = None) -> None:
    """Run the steps in order; raise :class:`StepFailed` at the first non-zero exit. Exit 6 (some
    input files not ingested, the rest published) does not stop the chain: the later steps run on
    what was ingested, and the chain then ends with 6."""
    partial = None
    for i, step in enumerate(steps):
        position = f"{i + 1}/{len(steps)}"
        log.info("step %s %s: %s", position, step.name, describe(step, submit))
        start = time.monotonic()
        code = exit_code(runner(step))
        log.info("step %s %s: exit %d after %.1f s", position, step.name, code, time.monotonic() - start)
        if code == EXIT_FILES_FAILED:
            partial = partial or (step.name, position)
        elif code != 0:
            raise step_failed(step.name, position, code, [s.name for s in steps[i + 1 :]])
    if partial:
        raise StepFailed(
            f"step {partial[1]} {partial[0]} exited {EXIT_FILES_FAILED} "
            f"({BY_CODE[EXIT_FILES_FAILED].short}); the other steps ran",
            EXIT_FILES_FAILED,
        )


def submit_command(value: str) -> list[str]:
    """``nightly.spark_submit`` / ``--spark-submit`` split like a shell would; checked on PATH."""
    cmd = shlex.split(value)
    if not cmd or shutil.which(cmd[0]) is None:
        raise ConfigError(
            f"spark-submit command not found: {value!r} (put .venv/bin on PATH or "
            "set --spark-submit / nightly.spark_submit)"
        )
    return cmd


def run(args: argparse.Namespace, cfg: Settings) -> None:
    """Plan the chain and run it (or only print it with ``--dry-run``)."""
    steps = plan(args, cfg)
    separate = cfg.nightly.isolated if args.isolated is None else args.isolated
    value = args.spark_submit or cfg.nightly.spark_submit
    if args.dry_run:
        for step in steps:
            print(describe(step, shlex.split(value) if separate else None))
        return
    submit = submit_command(value) if separate else None
    start = time.monotonic()
    run_steps(steps, isolated(submit) if separate else in_process, submit)
    log.info(
        "nightly chain done (%s): %s in %.1f s",
        "isolated" if separate else "one driver",
        " -> ".join(s.name for s in steps),
        time.monotonic() - start,
    )


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--train",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also train a new model before scoring (default: nightly.train)",
    )
    p.add_argument("--model-version", help="model scored by score_reviews (default: score.model_version)")
    p.add_argument(
        "--isolated",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one spark-submit per step instead of one driver for the chain (default: nightly.isolated)",
    )
    p.add_argument(
        "--spark-submit", help="with --isolated: the command that runs each step (default: nightly.spark_submit)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")


# Each step takes its own lock and writes its own report: the chain holds none and writes none.
JOB = Job(
    "run_all",
    "Run the nightly chain: clean_reviews -> build_features -> label_issues -> [train_model] -> score_reviews.",
    body=lambda ctx, args: run(args, ctx.cfg),
    options=_options,
    with_input=True,
    lock=False,
    report=False,
)
main = JOB.main
