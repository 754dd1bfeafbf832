"""The nightly chain (reviewlake/jobs/nightly.py): isolated, with a stand-in spark-submit that records its calls;
in one driver, with stand-in job mains. Either way:
order, arguments, stop at the first failure, exit code of the failed step."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from reviewlake.jobs import nightly

FAKE = """#!{python}
import json, os, signal, sys
from pathlib import Path
job = Path(sys.argv[1]).stem
with open({log!r}, "a") as f:
    f.write(json.dumps([job] + sys.argv[2:]) + "\\n")
fail = os.environ.get("FAKE_FAIL", "")
if fail.startswith(job + "="):
    code = int(fail.split("=")[1])
    if code < 0:
        os.kill(os.getpid(), -code)
    sys.exit(code)
"""


@pytest.fixture
def fake_submit(tmp_path) -> tuple[str, Path]:
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "fake-spark-submit"
    script.write_text(FAKE.format(python=sys.executable, log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_runs_the_chain_in_order_without_training_by_default(fake_submit, tmp_path):
    submit, log = fake_submit
    code = nightly.main(
        [
            "--isolated",
            "--spark-submit",
            submit,
            "--input",
            "data/x",
            "--lakehouse",
            str(tmp_path / "lh"),
            "--conf",
            "features.max_len=80",
            "--model-version",
            "v7",
        ]
    )
    assert code == 0
    got = calls(log)
    assert [c[0] for c in got] == ["clean_reviews", "build_features", "label_issues", "score_reviews"]
    common = ["--lakehouse", str(tmp_path / "lh"), "--conf", "features.max_len=80"]
    assert got[0][1:] == ["--input", "data/x", *common]
    assert got[1][1:] == got[2][1:] == common
    assert got[3][1:] == ["--model-version", "v7", *common]


def test_training_is_a_switch(fake_submit):
    submit, log = fake_submit
    assert nightly.main(["--isolated", "--spark-submit", submit, "--train"]) == 0
    assert [c[0] for c in calls(log)] == [
        "clean_reviews",
        "build_features",
        "label_issues",
        "train_model",
        "score_reviews",
    ]
    log.unlink()
    assert nightly.main(["--isolated", "--spark-submit", submit, "--conf", "nightly.train=true", "--no-train"]) == 0
    assert "train_model" not in [c[0] for c in calls(log)]


def test_stops_at_the_first_failure_with_its_exit_code(fake_submit, monkeypatch, capsys):
    submit, log = fake_submit
    monkeypatch.setenv("FAKE_FAIL", "build_features=3")
    assert nightly.main(["--isolated", "--spark-submit", submit, "--train"]) == 3
    assert [c[0] for c in calls(log)] == ["clean_reviews", "build_features"]
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        "run_all: error: step 2/5 build_features failed with exit code 3 (quality gate "
        "failed, nothing published); not run: label_issues, train_model, score_reviews"
    )


def test_a_locked_step_and_a_killed_step(fake_submit, monkeypatch, capsys):
    submit, log = fake_submit
    monkeypatch.setenv("FAKE_FAIL", "clean_reviews=5")
    assert nightly.main(["--isolated", "--spark-submit", submit]) == 5
    assert "another run holds the job's lock" in capsys.readouterr().err
    monkeypatch.setenv("FAKE_FAIL", "score_reviews=-9")
    assert nightly.main(["--isolated", "--spark-submit", submit]) == 137
    assert "step 4/4 score_reviews failed with exit code 137 (killed by signal 9)" in capsys.readouterr().err


def test_missing_spark_submit_is_a_usage_error(tmp_path, capsys):
    assert nightly.main(["--isolated", "--spark-submit", str(tmp_path / "nope")]) == 2
    assert "spark-submit command not found" in capsys.readouterr().err


def test_dry_run_prints_the_commands(capsys):
    assert nightly.main(["--dry-run", "--isolated", "--spark-submit", "spark-submit --driver-memory 6g"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("spark-submit --driver-memory 6g ") for line in lines)
    assert lines[0].split()[3].endswith(os.path.join("reviewlake", "jobs", "clean_reviews.py"))


@pytest.fixture
def fake_mains(monkeypatch):
    """Stand-in ``main`` of every job, recording its argv; ``codes`` sets a job's exit code."""
    from reviewlake.jobs import build_features, clean_reviews, label_issues, score_reviews, train_model

    seen, codes = [], {}
    for module in (clean_reviews, build_features, label_issues, train_model, score_reviews):
        name = module.__name__.rsplit(".", 1)[1]
        monkeypatch.setattr(module, "main", lambda argv, name=name: seen.append((name, argv)) or codes.get(name, 0))
    return seen, codes


def test_one_driver_runs_each_job_main_in_order(fake_mains, tmp_path):
    seen, _ = fake_mains
    assert nightly.main(["--input", "data/x", "--lakehouse", str(tmp_path / "lh"), "--model-version", "v7"]) == 0
    assert [name for name, _ in seen] == ["clean_reviews", "build_features", "label_issues", "score_reviews"]
    assert seen[0][1] == ["--input", "data/x", "--lakehouse", str(tmp_path / "lh")]
    assert seen[2][1] == ["--lakehouse", str(tmp_path / "lh")]
    assert seen[3][1] == ["--model-version", "v7", "--lakehouse", str(tmp_path / "lh")]


def test_one_driver_stops_at_the_first_failure_with_its_code(fake_mains, capsys):
    seen, codes = fake_mains
    codes["build_features"] = 4
    assert nightly.main(["--train"]) == 4
    assert [name for name, _ in seen] == ["clean_reviews", "build_features"]
    assert (
        "step 2/5 build_features failed with exit code 4 (invariant broken); not run: label_issues, train_model, "
        "score_reviews" in capsys.readouterr().err
    )


def test_unread_input_files_do_not_stop_the_chain_but_are_its_exit_code(fake_mains, capsys):
    seen, codes = fake_mains
    codes["clean_reviews"] = 6
    assert nightly.main([]) == 6
    assert [name for name, _ in seen] == ["clean_reviews", "build_features", "label_issues", "score_reviews"]
    assert (
        "step 1/4 clean_reviews exited 6 (some input files were not ingested, the rest was); the other steps ran"
        in capsys.readouterr().err
    )
    codes["build_features"] = 3  # a real failure later still stops the chain with its own code
    assert nightly.main([]) == 3


def test_one_driver_is_the_default_and_isolated_a_setting(capsys):
    assert nightly.main(["--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "in-process: reviewlake.jobs.clean_reviews.main()"
    assert nightly.main(["--dry-run", "--conf", "nightly.isolated=true"]) == 0
    first = capsys.readouterr().out.splitlines()[0].split()
    assert first[3].endswith(os.path.join("reviewlake", "jobs", "clean_reviews.py")) and first[4:] == [
        "--conf",
        "nightly.isolated=true",
    ]
