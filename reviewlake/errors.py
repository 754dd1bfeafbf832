"""Every exception reviewlake raises on purpose, and the exit code each one ends a job with.

A job that fails prints one line on stderr (``<job>: error: <reason>``) and exits with the code of
:data:`EXIT_CODES`, the one table of exit codes: the README's table and every job's ``--help`` are
written from it (a test holds the README to it). :func:`exit_status` is the one place that maps an
exception to its code and reason; ``pipelines/run_all.py`` ends with the code of the step that
failed (128 + N for a step killed by signal N).

A Spark JVM that runs out of memory is not an exception of ours: :func:`exit_status` recognises it
in what Py4J raises (:func:`out_of_memory`) and ends the job with 52, Spark's own exit code for
it, so the code is the same whether the job reports it or the JVM's handler exits the process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_GATE, EXIT_INVARIANT, EXIT_LOCKED, EXIT_FILES_FAILED = 0, 1, 2, 3, 4, 5, 6
# Spark's SparkExitCode.OOM: what spark-submit exits with when the JVM's handler stops it on an
# OutOfMemoryError (a task's, in local mode), so a job reports the same code
EXIT_OUT_OF_MEMORY = 52


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
    ExitCode(
        EXIT_OUT_OF_MEMORY,
        "out of memory",
        "a Spark JVM ran out of memory or died under the job: the run stopped there, as a killed run does "
        "(the next run completes it); rerun with more memory: `spark-submit --driver-memory` "
        "(`spark.driver.memory`; local mode runs its tasks in the driver), on a cluster `spark.executor.memory` "
        "when the message names an executor. 52 is Spark's own code for it, which `spark-submit` exits with "
        "when the JVM itself stops",
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
    memory = out_of_memory(exc)
    if memory is not None:
        return EXIT_OUT_OF_MEMORY, memory
    if isinstance(exc, ReviewlakeError):
        return exc.code, f"{exc.prefix}{exc}"
    if isinstance(exc, FileNotFoundError):  # a path named on the command line or in the config
        return EXIT_USAGE, str(exc)
    return EXIT_ERROR, f"{type(exc).__name__}: {_text(exc)}"


# What a JVM out of memory looks like in a Java exception's text: the error itself (thrown in the
# driver, or a task's, carried in the SparkException of the job it failed), a container killed for
# its memory (YARN, Kubernetes)
_OOM = re.compile(r"java\.lang\.OutOfMemoryError(: [^\n(]*[^\s(])?|OutOfMemoryError|exceeding memory limits|OOMKilled")
# a task lost on an executor of a cluster ("(10.0.0.5 executor 3):", "ExecutorLostFailure (executor
# 3 exited ..."); local mode runs its tasks in "executor driver"
_EXECUTOR = re.compile(r"\bexecutor (?!driver\b)[\w.-]+(\)|\s+exited)")
# What an action gets while the JVM's handler stops the SparkContext under it: a job cancelled, or
# (seen at 10x with a 1 GiB driver, a count() racing the stop) a plan whose session is already gone
_STOPPED = re.compile(r"SparkContext was shut down|SparkPlan\.session\(\)\" is null")
_RAISE_DRIVER = "rerun it with more memory: spark-submit --driver-memory (spark.driver.memory)"
_RAISE_EXECUTOR = "rerun it with more executor memory: spark.executor.memory (spark-submit --executor-memory)"


def out_of_memory(exc: BaseException) -> str | None:
    """The one-line reason for ``exc`` (or any exception it was raised from or while handling) if
    it says a Spark JVM ran out of memory or died under the job, else None. Recognised without
    pyspark (this module is layer 0): a Py4J error whose Java exception or one of its causes is, or
    tells of, an ``OutOfMemoryError`` (in the driver, or in a task: on a cluster executor the
    setting to raise is the executors'); a job cancelled because the SparkContext was shut down, or
    an action whose plan lost its session (:data:`_STOPPED`: what is left when the JVM's handler
    stops the context on a task's OutOfMemoryError); a Py4J network error (the JVM is gone)."""
    chain = list(_chain(exc))
    for e in chain:
        found = _OOM.search(_java_text(e))
        if found:
            executor = _EXECUTOR.search(_java_text(e))
            who, advice = ("a Spark executor", _RAISE_EXECUTOR) if executor else ("the Spark driver", _RAISE_DRIVER)
            return f"out of memory: {who} ran out of memory ({found.group(0)}); the run stopped; {advice}"
    for e in chain:
        if _STOPPED.search(_java_text(e)) or _jvm_gone(e):
            return (
                "out of memory: the Spark driver's JVM stopped under the job (Spark stops it when a task runs "
                f"out of memory: its log above says why); the run stopped; {_RAISE_DRIVER}"
            )
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, newest first."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 32:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _java_text(exc: BaseException) -> str:
    """The Java side of a Py4J error: its exception's and its causes' ``toString()`` (empty if the
    JVM cannot answer), and pyspark's copy of the JVM's message and stack trace where it made one."""
    parts = [str(getattr(exc, "_desc", None) or ""), str(getattr(exc, "_stackTrace", None) or "")]
    java = getattr(exc, "java_exception", None)
    for _ in range(16):
        if java is None:
            break
        try:
            parts.append(str(java.toString()))
            java = java.getCause()
        except Exception:  # noqa: BLE001 - the JVM is gone: nothing more to read from it
            break
    return "\n".join(p for p in parts if p)


def _jvm_gone(exc: BaseException) -> bool:
    """Py4J lost its JVM: a network error, or a call that got no answer (no Java exception, no trace)."""
    kind = type(exc)
    if not kind.__module__.startswith("py4j"):
        return False
    text = " ".join(str(a) for a in exc.args)
    return kind.__name__ == "Py4JNetworkError" or (
        kind.__name__ == "Py4JError" and text.startswith("An error occurred while calling") and "Trace" not in text
    )


def _text(exc: BaseException) -> str:
    """``str(exc)``, or its arguments where that fails (a Py4J error's text asks the JVM, which may be gone)."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a Py4J error whose JVM cannot answer
        return " ".join(a for a in exc.args if isinstance(a, str))
