"""Every exception reviewlake raises on purpose, and the exit code each one ends a job with.

A job that fails prints one line on stderr (``<job>: error: <reason>``) and exits with the code of
:data:`EXIT_CODES`, the one table of exit codes: the README's table and every job's ``--help`` are
written from it (a test holds the README to it). :func:`exit_status` is the one place that maps an
exception to its code and reason; ``pipelines/run_all.py`` ends with the code of the step that
failed (128 + N for a step killed by signal N).
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_GATE, EXIT_INVARIANT, EXIT_LOCKED, EXIT_FILES_FAILED = 0, 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class ExitCode:
    code: int
    short: str  # what the nightly chain says of a step that ended with it
    meaning: str  # what the README and --help say


EXIT_CODES = (
    ExitCode(EXIT_OK, "success", "success"),
    ExitCode(EXIT_ERROR, "error", "anything else"),
    ExitCode(EXIT_USAGE, "bad usage, config or input", "bad usage, configuration or input"),
    ExitCode(EXIT_GATE, "quality gate failed, nothing published", "a quality gate failed: nothing was published"),
    ExitCode(EXIT_INVARIANT, "invariant broken", "an accounting invariant broke"),
    ExitCode(
        EXIT_LOCKED,
        "another run holds the job's lock",
        "another run of the same job is running on the same lakehouse: nothing was done",
    ),
    ExitCode(
        EXIT_FILES_FAILED,
        "some input files were not ingested, the rest was",
        "`clean_reviews`: some input files could not be read (over the reader's size limit, or gone since "
        "listed); each is logged and quarantined, the others were ingested and published, and the next run "
        "tries them again; `make nightly` goes on and ends with 6",
    ),
)
BY_CODE = {e.code: e for e in EXIT_CODES}


class ReviewlakeError(Exception):
    """Base of every failure a job reports by its own exit code (``code``); the message is the
    reason printed, after ``prefix``."""

    code = EXIT_ERROR
    prefix = ""


class UsageError(ReviewlakeError, ValueError):
    """Bad usage, configuration or input: exit 2."""

    code = EXIT_USAGE


class ConfigError(UsageError):
    """A config file, key, value or override that cannot be used."""


class InputError(UsageError):
    """The job's input cannot be used (no such path, nothing readable, an upstream table missing)."""


class NotEnoughSlotsError(UsageError):
    """Training asks for more Horovod processes (``train.num_proc``) than the cluster has task slots."""


class QualityGateError(ReviewlakeError, RuntimeError):
    """A Great Expectations suite failed on a staged table: nothing was published (exit 3)."""

    code = EXIT_GATE
    prefix = "quality gate failed, nothing published: "


class InvariantError(ReviewlakeError, RuntimeError):
    """An accounting or consistency invariant (docs/tables.md) does not hold (exit 4)."""

    code = EXIT_INVARIANT
    prefix = "invariant broken: "


class LockHeldError(ReviewlakeError, RuntimeError):
    """Another run of the same job holds the run lock on this lakehouse (exit 5)."""

    code = EXIT_LOCKED


class FilesFailedError(ReviewlakeError, RuntimeError):
    """Some input files could not be read; the rest of the batch was ingested and published (exit 6)."""

    code = EXIT_FILES_FAILED
    prefix = "some input files were not ingested: "


class StepFailed(ReviewlakeError, RuntimeError):
    """A step of the nightly chain exited non-zero; the chain exits with the step's own code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


class BadRecord(ValueError):
    """One input record that cannot be parsed; never ends a job: the record is quarantined with
    this reason (``malformed_json``, ``undecodable``, ``missing_text``, ...)."""


def exit_status(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one-line reason for a job that ended with ``exc``."""
    if isinstance(exc, ReviewlakeError):
        return exc.code, f"{exc.prefix}{exc}"
    if isinstance(exc, FileNotFoundError):  # a path named on the command line or in the config
        return EXIT_USAGE, str(exc)
    return EXIT_ERROR, f"{type(exc).__name__}: {exc}"
