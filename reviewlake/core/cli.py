"""The command-line contract shared by every job: ``--input`` (repeatable, files/folders/globs),
``--lakehouse URI``, ``--config FILE``, ``--conf key=value`` (repeatable), ``-v``, ``--help`` (which
lists the exit codes of :data:`reviewlake.errors.EXIT_CODES`), and the log format. A job's run is
:class:`reviewlake.core.job.Job`'s.
"""

from __future__ import annotations

import argparse
import logging
import sys

from reviewlake.core.config import load_config
from reviewlake.core.settings import Settings
from reviewlake.errors import EXIT_CODES


def parser(description: str, with_input: bool = True) -> argparse.ArgumentParser:
    """The options every job takes (``--input`` where ``with_input``); the exit codes as epilog."""
    codes = "; ".join(f"{e.code} {e.meaning.split(' (')[0].replace('`', '')}" for e in EXIT_CODES)
    p = argparse.ArgumentParser(description=description, epilog=f"exit codes: {codes}")
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


def config_from_args(args: argparse.Namespace, extra: list[str] = ()) -> Settings:
    """The job's settings: ``--config``, then ``--conf`` overrides, then ``--lakehouse`` and the
    job's ``extra`` overrides (from its own options)."""
    overrides = [*args.conf, *extra]
    if getattr(args, "lakehouse", None):
        overrides.append(f"lakehouse={args.lakehouse}")
    return load_config(args.config, overrides)
