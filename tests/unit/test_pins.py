"""Every pin a fresh machine installs is ``name==version`` from a package index: no direct URL, no
``file:`` or absolute path (a wheel on one machine's disk once broke every fresh install), and the
pins of setup.cfg agree with constraints.txt."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[0-9][A-Za-z0-9.+!-]*$")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[tuple[str, str]]:
    """``(where, requirement)`` for each non-comment line of a requirements/constraints file."""
    out = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.append((f"{path.name}:{no}", line))
    return out


def setup_cfg_lines() -> list[tuple[str, str]]:
    text = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    parser = configparser.ConfigParser()
    parser.read_string(text)
    fields = [("options", "install_requires")] + [
        ("options.extras_require", k) for k in parser["options.extras_require"]
    ]
    out = []
    for section, key in fields:
        for req in parser[section][key].splitlines():
            req = req.split("#", 1)[0].strip()
            if req:
                out.append((f"setup.cfg [{section}] {key}", req))
    return out


def requirement_files() -> list[Path]:
    found = [*ROOT.glob("constraints*.txt"), *ROOT.glob("**/requirements*.txt")]
    return sorted(p for p in set(found) if not any(part.startswith(".venv") for part in p.relative_to(ROOT).parts))


def all_pins() -> list[tuple[str, str]]:
    return [pin for path in requirement_files() for pin in requirement_lines(path)] + setup_cfg_lines()


def pinned(lines: list[tuple[str, str]]) -> dict[str, str]:
    return {norm(r.split("==")[0].split("[")[0]): r.split("==")[1] for _, r in lines}


@pytest.mark.parametrize("where,req", all_pins(), ids=lambda v: str(v))
def test_each_pin_is_name_equals_version(where, req):
    assert PIN.match(req), f"{where}: {req!r} is not name==version from a package index"


def test_pin_checker_rejects_what_broke_fresh_installs():
    for bad in (
        "OpenCC @ file:///tmp/occ/opencc-1.4.2-cp311-cp311-manylinux2014_x86_64.whl",
        "/tmp/occ/opencc-1.4.2.whl",
        "-e /work/x",
        "pkg @ https://example.org/p.whl",
        "numpy>=1.26",
        "numpy",
    ):
        assert not PIN.match(bad), bad


def test_the_checked_files_include_both_locks_and_the_airflow_requirements():
    names = {p.relative_to(ROOT).as_posix() for p in requirement_files()}
    assert {"constraints.txt", "constraints-airflow.txt", "deploy/airflow/requirements.txt"} <= names


@pytest.mark.parametrize(
    "pins, lock",
    [
        (setup_cfg_lines, "constraints.txt"),
        (lambda: requirement_lines(ROOT / "deploy" / "airflow" / "requirements.txt"), "constraints-airflow.txt"),
    ],
)
def test_top_level_pins_agree_with_their_lock(pins, lock):
    locked = pinned(requirement_lines(ROOT / lock))
    for where, req in pins():
        name, version = norm(req.split("==")[0].split("[")[0]), req.split("==")[1]
        assert locked.get(name) == version, f"{where}: {req} but {lock} has {locked.get(name)}"
