"""Every kind of mistake ends a job with its documented exit code (reviewlake/errors.py, README)
and one line on stderr; configuration mistakes are caught at start-up, before Spark or any write.
(A missing input path: tests/integration/test_jobs.py::test_missing_input_is_a_usage_error.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reviewlake import errors
from reviewlake.jobs import build_features, clean_reviews

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "exc, code",
    [
        (errors.ConfigError("x"), 2),
        (errors.InputError("x"), 2),
        (errors.NotEnoughSlotsError("x"), 2),
        (FileNotFoundError("x"), 2),
        (errors.QualityGateError("x"), 3),
        (errors.InvariantError("x"), 4),
        (errors.LockHeldError("x"), 5),
        (errors.FilesFailedError("x"), 6),
        (errors.StepFailed("x", 137), 137),
        (RuntimeError("x"), 1),
        (ValueError("x"), 1),
        (errors.BadRecord("x"), 1),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_each_exception_maps_to_its_code(exc, code):
    assert errors.exit_status(exc)[0] == code


CONFIG_MISTAKES = {
    "override without =": ["--conf", "features.max_len"],
    "missing config file": ["--config", "/no/such/reviewlake.yaml"],
    "unknown key": ["--conf", "features.max_lenght=80"],
    "unknown section": ["--conf", "featurez.max_len=80"],
    "wrong type": ["--conf", "train.epochs=many"],
    "out of range": ["--conf", "train.epochs=0"],
    "bad max_len_percentile": ["--conf", "features.max_len_percentile=97"],
    "bad label policy": ["--conf", "dedupe.label_conflict_policy=vote"],
    "bad emote mode": ["--conf", "clean.emotes=keep"],
    "bad segment backend": ["--conf", "segment.backend=thulac"],
    "ratios summing to 0": ["--conf", "features.split={train: 0, validation: 0, test: 0}"],
    "label outside the classes": ["--conf", "labels.from_rating={1: awful}"],
}


@pytest.mark.parametrize("argv", CONFIG_MISTAKES.values(), ids=CONFIG_MISTAKES.keys())
def test_configuration_mistakes_exit_2_before_anything_runs(argv, tmp_path, capsys):
    lakehouse = tmp_path / "lh"
    assert build_features.main(["--lakehouse", str(lakehouse), *argv]) == 2
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("build_features: error: ")]
    assert len(said) == 1  # the one line (the log above it carries the same reason)
    assert not lakehouse.exists()  # not even the lock was taken


def test_an_unknown_clean_rule_exits_2_and_names_the_known_ones(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("很好\n", encoding="utf-8")
    code = clean_reviews.main(
        [
            "--input",
            str(tmp_path / "in.txt"),
            "--lakehouse",
            str(tmp_path / "lh"),
            "--conf",
            "clean.rules=[html, nfkc, no_such_rule]",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "no_such_rule" in err and "html" in err
    assert not (tmp_path / "lh" / "bronze").exists()


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        build_features.main(["--no-such-option"])
    assert exc.value.code == 2


def test_only_the_errors_module_defines_exceptions():
    found = []
    for path in (ROOT / "reviewlake").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and path.name != "errors.py":
                bases = [ast.unparse(b) for b in node.bases]
                if any(b.endswith(("Error", "Exception", "Exit")) for b in bases):
                    found.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert found == []


def test_the_codes_are_documented_where_users_read_them(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for exit_code in errors.EXIT_CODES:
        assert f"| {exit_code.code} | {exit_code.meaning}" in readme, f"exit code {exit_code.code} differs in README"
    with pytest.raises(SystemExit):
        build_features.main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert all(f"{e.code} {e.meaning.split(' (')[0].replace('`', '')}" in shown for e in errors.EXIT_CODES)


# --------------------------------------------------------------------------- out of memory
class FakeJavaThrowable:
    """What Py4J hands Python for a Java exception, as far as the mapping reads it: toString() and
    getCause() (each a call into the JVM, which raises once the JVM is gone)."""

    _target_id = "o1"

    def __init__(self, text: str, cause: FakeJavaThrowable | None = None, jvm_gone: bool = False):
        self.text, self.cause, self.jvm_gone = text, cause, jvm_gone

    def toString(self) -> str:
        if self.jvm_gone:
            raise ConnectionRefusedError(111, "Connection refused")
        return self.text

    def getCause(self) -> FakeJavaThrowable | None:
        return self.cause


def java_error(text: str, cause: FakeJavaThrowable | None = None, jvm_gone: bool = False):
    from py4j.protocol import Py4JJavaError

    return Py4JJavaError(
        "An error occurred while calling o140.collectToPython.\n", FakeJavaThrowable(text, cause, jvm_gone)
    )


# the messages below are those a real run gave (tests/system/test_out_of_memory.py makes them again)
LOCAL_TASK = (
    "org.apache.spark.SparkException: Job aborted due to stage failure: Task 2 in stage 1.0 failed 1 times, "
    "most recent failure: Lost task 2.0 in stage 1.0 (TID 4) (192.0.2.2 executor driver): scala.MatchError: "
    "java.lang.OutOfMemoryError: Java heap space (of class java.lang.OutOfMemoryError)"
)
CLUSTER_TASK = LOCAL_TASK.replace("executor driver", "executor 3").replace("1 times", "4 times")
# a count() while the handler stopped the context (clean_reviews at 10x, plain spark-submit, 1 GiB driver)
STOPPED_UNDER_COUNT = (
    'org.apache.spark.SparkException: [INTERNAL_ERROR] The "count" action failed. You hit a bug in Spark or '
    "the Spark plugins you use. Please, report this bug to the corresponding communities or vendors, and "
    "provide the full stack trace. SQLSTATE: XX000\nCaused by: java.lang.NullPointerException: Cannot invoke "
    '"org.apache.spark.sql.classic.SparkSession.sparkContext()" because the return value of '
    '"org.apache.spark.sql.execution.SparkPlan.session()" is null'
)


def raised(outer: BaseException, inner: BaseException) -> BaseException:
    """``outer`` as Python raises it while handling ``inner`` (``__context__``), as a failing
    cleanup raises over a run's own error."""
    try:
        try:
            raise inner
        except type(inner):
            raise outer  # noqa: B904 - the implicit chain is what is being made
    except type(outer) as exc:
        return exc
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    "exc, names",
    [
        (java_error("java.lang.OutOfMemoryError: Java heap space"), "--driver-memory"),  # thrown in the driver's call
        (java_error(LOCAL_TASK), "--driver-memory"),  # a task of local mode: the driver's heap
        (java_error("org.apache.spark.SparkException: boom", FakeJavaThrowable(LOCAL_TASK)), "--driver-memory"),
        (java_error(CLUSTER_TASK), "spark.executor.memory"),  # a task on a cluster executor
        (java_error("org.apache.spark.SparkException: Job 0 cancelled because SparkContext was shut down"), "driver"),
        (java_error(STOPPED_UNDER_COUNT), "driver"),
    ],
    ids=["driver", "local task", "as a cause", "cluster executor", "context shut down", "plan lost its session"],
)
def test_a_jvm_out_of_memory_exits_52_with_one_line_naming_the_setting(exc, names):
    code, reason = errors.exit_status(exc)
    assert code == errors.EXIT_OUT_OF_MEMORY == 52
    assert "\n" not in reason and reason.startswith("out of memory: ") and names in reason
    assert ("spark.driver.memory" in reason) != ("spark.executor.memory" in reason)
    if "OutOfMemoryError" in exc.java_exception.text:
        assert "(java.lang.OutOfMemoryError: Java heap space)" in reason


def test_a_jvm_that_died_under_the_job_exits_52():
    """After the JVM's handler stopped it (exit 52), the next call into it fails with a connection
    refused raised while Py4J handled its empty answer; a cleanup step may raise that over the
    job's own error. Py4J's text of a Java exception then cannot be asked for."""
    from py4j.protocol import Py4JError, Py4JNetworkError

    refused = raised(
        ConnectionRefusedError(111, "Connection refused"), Py4JNetworkError("Answer from Java side is empty")
    )
    over_it = raised(RuntimeError("cleanup failed"), refused)
    no_answer = Py4JError("An error occurred while calling o45.collectToPython")
    for exc in (refused, over_it, no_answer):
        code, reason = errors.exit_status(exc)
        assert code == 52 and "JVM stopped under the job" in reason and "--driver-memory" in reason
    # a Java error whose text the dead JVM cannot give, alone: exit 1, and no new error asking for it
    gone = java_error("java.lang.OutOfMemoryError", jvm_gone=True)
    assert errors.exit_status(gone) == (1, "Py4JJavaError: An error occurred while calling o140.collectToPython.\n")


def test_other_errors_are_not_taken_for_out_of_memory():
    from py4j.protocol import Py4JError

    assert errors.exit_status(java_error("org.apache.spark.SparkException: Task failed: MemoryStore is fine"))[0] == 1
    assert errors.exit_status(Py4JError("An error occurred while calling o1.x. Trace:\npy4j.Py4JException: no"))[0] == 1
    assert errors.exit_status(MemoryError())[0] == 1  # Python's own, in the driver: not a JVM's
    assert errors.exit_status(errors.QualityGateError("executor 3 exited"))[0] == 3


def test_a_run_whose_jvm_died_still_reports_its_own_error_and_writes_its_report(tmp_path):
    """Counting a stage's Spark jobs and the run's figures asks the JVM: once it is gone, a failing
    run's own error still propagates (not the bookkeeping's) and its report is written without
    Spark's figures; a run that is not failing still raises what the bookkeeping raises."""
    import json

    from reviewlake.core.report import RunReport

    class GoneWork:
        calls = 0

        def jobs_so_far(self) -> int:
            GoneWork.calls += 1
            if GoneWork.calls > 1:
                raise ConnectionRefusedError(111, "Connection refused")
            return 0

        def reset_heap_peak(self) -> None:
            pass

        def heap_peak_mib(self) -> float:
            raise ConnectionRefusedError(111, "Connection refused")

        def finish(self) -> dict:
            raise ConnectionRefusedError(111, "Connection refused")

    report = RunReport("probe")
    report._work = GoneWork()
    with pytest.raises(RuntimeError, match="the run's own"), report.stage("ingest"):
        raise RuntimeError("the run's own error")
    assert report.stages[0].spark_jobs is None and report.stages[0].peak_heap_mib is None
    with pytest.raises(ConnectionRefusedError):
        report.write(tmp_path, failed=False)
    report._work = GoneWork()
    written = json.loads(report.write(tmp_path, failed=True).read_text(encoding="utf-8"))
    assert written["summary"]["spark"] is None and written["stages"][0]["name"] == "ingest"
