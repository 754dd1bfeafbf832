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
