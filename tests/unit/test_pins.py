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
    fields = [("options", "install_requires")] + [("options.extras_require", k)
                                                  for k in parser["options.extras_require"]]
    out = []
    for section, key in fields:
        for req in parser[section][key].splitlines():
            req = req.split("#", 1)[0].strip()
            if req:
                out.append((f"setup.cfg [{section}] {key}", req))
    return out


def all_pins() -> list[tuple[str, str]]:
    files = [ROOT / "constraints.txt", *sorted(ROOT.glob("requirements*.txt")),
             *sorted(ROOT.glob("**/requirements*.txt"))]
    seen, out = set(), []
    for path in files:
        if path not in seen and ".venv" not in path.parts:
            seen.add(path)
            out.extend(requirement_lines(path))
    return out + setup_cfg_lines()


@pytest.mark.parametrize("where,req", all_pins(), ids=lambda v: str(v))
def test_each_pin_is_name_equals_version(where, req):
    assert PIN.match(req), f"{where}: {req!r} is not name==version from a package index"


def test_pin_checker_rejects_what_broke_fresh_installs():
    for bad in ("OpenCC @ file:///tmp/occ/opencc-1.4.2-cp311-cp311-manylinux2014_x86_64.whl",
                "/tmp/occ/opencc-1.4.2.whl", "-e /work/x", "pkg @ https://example.org/p.whl",
                "numpy>=1.26", "numpy"):
        assert not PIN.match(bad), bad


def test_setup_cfg_pins_agree_with_constraints():
    constraints = {norm(r.split("==")[0]): r.split("==")[1]
                   for _, r in requirement_lines(ROOT / "constraints.txt")}
    for where, req in setup_cfg_lines():
        if "airflow" in where:  # its own virtualenv (make airflow-venv), not the locked stack
            continue
        name, version = req.split("==")
        name = norm(name.split("[")[0])
        assert constraints.get(name) == version, f"{where}: {req} but constraints.txt has {constraints.get(name)}"
