"""The command-line contract shared by every job.

``--input`` (repeatable, files/folders/globs), ``--lakehouse URI``, ``--config FILE``,
``--conf key=value`` (repeatable), ``--help``. Exit 0 on success; otherwise a one-line reason on
stderr and the exit code of :mod:`reviewlake.errors` (2 usage/config/input, 3 quality gate,
4 invariant, 5 run lock held, 1 anything else).

Every job run through :func:`run` holds its run lock (``<lakehouse>/_locks/<job>.lock``) from
before its first read to its end, so two runs of one job on one lakehouse never overlap.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from contextlib import nullcontext

from reviewlake.core.config import Config, load_config
from reviewlake.errors import exit_status


def parser(description: str, with_input: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    if with_input:
        p.add_argument(
            "--input",
            action="append",
            default=[],
            help="landing files, folders or globs (repeatable; default: ingest.input)",
        )
    p.add_argument("--lakehouse", help="storage root URI of the Delta tables (default: lakehouse)")
    p.add_argument(
        "--config", help="YAML file merged over the defaults (reviewlake/conf/reviewlake.yaml) and $REVIEWLAKE_CONFIG"
    )
    p.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key, e.g. features.max_len=80 (repeatable)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("py4j", "great_expectations", "tensorflow", "absl", "h5py", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Libraries that log straight to the root logger (Horovod's rendezvous, py4j's reconnects)
    # would bury the stage summaries: keep only their warnings.
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: record.name != "root" or record.levelno >= logging.WARNING)


def config_from_args(args: argparse.Namespace) -> Config:
    overrides = list(args.conf)
    if getattr(args, "lakehouse", None):
        overrides.append(f"lakehouse={args.lakehouse}")
    return load_config(args.config, overrides)


def run(
    job: str,
    main: Callable[[argparse.Namespace, Config], None],
    p: argparse.ArgumentParser,
    argv: list[str] | None = None,
    lock: bool = True,
    check: Callable[[Config], None] | None = None,
) -> int:
    """Parse, configure logging and config, run ``check`` (the job's start-up checks the schema
    cannot make), then ``main`` holding ``job``'s run lock (unless ``lock`` is false); map failures
    to exit codes."""
    from reviewlake.core.lock import job_lock
    from reviewlake.core.report import new_run_id

    args = p.parse_args(argv)
    setup_logging(args.verbose)
    log = logging.getLogger(job)
    try:
        cfg = config_from_args(args)
        if check is not None:
            check(cfg)
        with job_lock(cfg, job, new_run_id(), lambda: _spark(cfg)) if lock else nullcontext():
            main(args, cfg)
        return 0
    except Exception as exc:
        log.debug("failure", exc_info=True)
        code, reason = exit_status(exc)
    log.error("%s failed: %s", job, reason)
    print(f"{job}: error: {reason}", file=sys.stderr)
    return code


def _spark(cfg: Config):
    """The job's session, started early when the lock lives on a Hadoop filesystem."""
    from reviewlake.core.spark import get_spark

    return get_spark(cfg)
