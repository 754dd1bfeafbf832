"""The command-line contract shared by every job (DESIGN.md section 3).

``--input`` (repeatable, files/folders/globs), ``--lakehouse URI``, ``--config FILE``,
``--conf key=value`` (repeatable), ``--help``. Exit 0 on success; otherwise a one-line reason on
stderr and: 2 for bad usage/config/input, 3 for a failed quality gate, 4 for a broken invariant,
5 when another run of the same job holds the lakehouse's run lock (nothing was done; see
pipelines/core/lock.py), 1 for anything else. ``pipelines/run_all.py`` exits with the code of the
step that failed.

Every job run through :func:`run` holds its run lock (``<lakehouse>/_locks/<job>.lock``) from
before its first read to its end, so two runs of one job on one lakehouse never overlap.
"""
from __future__ import annotations

import argparse
import logging
import sys
from contextlib import nullcontext
from typing import Callable

from pipelines.core.config import Config, ConfigError, load_config

EXIT_USAGE, EXIT_GATE, EXIT_INVARIANT, EXIT_LOCKED, EXIT_ERROR = 2, 3, 4, 5, 1


class JobExit(RuntimeError):
    """A failure that carries its own exit code (``code``)."""

    code = EXIT_ERROR


class InputError(ValueError):
    """The job's input cannot be used (no such path, nothing readable)."""


class InvariantError(RuntimeError):
    """An accounting/consistency invariant of DESIGN.md section 4 does not hold."""


def parser(description: str, with_input: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    if with_input:
        p.add_argument("--input", action="append", default=[],
                       help="landing files, folders or globs (repeatable; default: ingest.input)")
    p.add_argument("--lakehouse", help="storage root URI of the Delta tables (default: lakehouse)")
    p.add_argument("--config", help="YAML file merged over conf/reviewlake.yaml")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. features.max_len=80 (repeatable)")
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


def run(job: str, main: Callable[[argparse.Namespace, Config], None], p: argparse.ArgumentParser,
        argv: list[str] | None = None, lock: bool = True) -> int:
    """Parse, configure logging and config, run ``main`` holding ``job``'s run lock (unless
    ``lock`` is false); map failures to exit codes."""
    from pipelines.core.lock import job_lock
    from pipelines.core.report import new_run_id
    from quality.gate import QualityGateError

    args = p.parse_args(argv)
    setup_logging(args.verbose)
    log = logging.getLogger(job)
    try:
        cfg = config_from_args(args)
        with job_lock(cfg, job, new_run_id(), lambda: _spark(cfg)) if lock else nullcontext():
            main(args, cfg)
        return 0
    except JobExit as exc:
        code, reason = exc.code, str(exc)
    except QualityGateError as exc:
        code, reason = EXIT_GATE, f"quality gate failed, nothing published: {exc}"
    except InvariantError as exc:
        code, reason = EXIT_INVARIANT, f"invariant broken: {exc}"
    except (ConfigError, InputError, FileNotFoundError) as exc:
        code, reason = EXIT_USAGE, str(exc)
    except Exception as exc:  # noqa: BLE001 - last resort: one line to stderr, traceback in the log
        log.debug("failure", exc_info=True)
        code, reason = EXIT_ERROR, f"{type(exc).__name__}: {exc}"
    log.error("%s failed: %s", job, reason)
    print(f"{job}: error: {reason}", file=sys.stderr)
    return code


def _spark(cfg: Config):
    """The job's session, started early when the lock lives on a Hadoop filesystem."""
    from pipelines.core.spark import get_spark

    return get_spark(cfg)
