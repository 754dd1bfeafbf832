"""The nightly chain (reviewlake/jobs/nightly.py) with a stand-in spark-submit that records its calls:
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
    code = nightly.main(["--spark-submit", submit, "--input", "data/x", "--lakehouse", str(tmp_path / "lh"),
                         "--conf", "features.max_len=80", "--model-version", "v7"])
    assert code == 0
    got = calls(log)
    assert [c[0] for c in got] == ["clean_reviews", "build_features", "score_reviews"]
    common = ["--lakehouse", str(tmp_path / "lh"), "--conf", "features.max_len=80"]
    assert got[0][1:] == ["--input", "data/x", *common]
    assert got[1][1:] == common
    assert got[2][1:] == ["--model-version", "v7", *common]


def test_training_is_a_switch(fake_submit):
    submit, log = fake_submit
    assert nightly.main(["--spark-submit", submit, "--train"]) == 0
    assert [c[0] for c in calls(log)] == ["clean_reviews", "build_features", "train_model", "score_reviews"]
    log.unlink()
    assert nightly.main(["--spark-submit", submit, "--conf", "nightly.train=true", "--no-train"]) == 0
    assert "train_model" not in [c[0] for c in calls(log)]


def test_stops_at_the_first_failure_with_its_exit_code(fake_submit, monkeypatch, capsys):
    submit, log = fake_submit
    monkeypatch.setenv("FAKE_FAIL", "build_features=3")
    assert nightly.main(["--spark-submit", submit, "--train"]) == 3
    assert [c[0] for c in calls(log)] == ["clean_reviews", "build_features"]
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == ("run_all: error: step 2/4 build_features failed with exit code 3 (quality gate "
                    "failed, nothing published); not run: train_model, score_reviews")


def test_a_locked_step_and_a_killed_step(fake_submit, monkeypatch, capsys):
    submit, log = fake_submit
    monkeypatch.setenv("FAKE_FAIL", "clean_reviews=5")
    assert nightly.main(["--spark-submit", submit]) == 5
    assert "another run holds the job's lock" in capsys.readouterr().err
    monkeypatch.setenv("FAKE_FAIL", "score_reviews=-9")
    assert nightly.main(["--spark-submit", submit]) == 137
    assert "step 3/3 score_reviews failed with exit code 137 (killed by signal 9)" in capsys.readouterr().err


def test_missing_spark_submit_is_a_usage_error(tmp_path, capsys):
    assert nightly.main(["--spark-submit", str(tmp_path / "nope")]) == 2
    assert "spark-submit command not found" in capsys.readouterr().err


def test_dry_run_prints_the_commands(capsys):
    assert nightly.main(["--dry-run", "--spark-submit", "spark-submit --driver-memory 6g"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("spark-submit --driver-memory 6g ") for line in lines)
    assert lines[0].split()[3].endswith(os.path.join("reviewlake", "jobs", "clean_reviews.py"))
