"""The built wheel holds one top-level package, ``reviewlake``, with its default configuration and
segmenter files as package data: installed on its own, away from the repository, it loads its
config and builds the segmenter."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_only_the_reviewlake_namespace(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "wheel"),
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = (tmp_path / "wheel").glob("reviewlake-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {
        "reviewlake",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    assert {"reviewlake/conf/reviewlake.yaml", "reviewlake/conf/userdict.txt", "reviewlake/conf/stopwords.txt"} <= set(
        names
    )

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    code = (
        "import reviewlake, sys; from reviewlake.core.config import load_config; "
        "from reviewlake.text.segment import SegmenterSpec, segment_text; "
        "cfg = load_config(); spec = SegmenterSpec.from_config(cfg.segment); "
        "print(reviewlake.__file__); "
        "print(len(spec.user_dict) > 0, len(spec.stopwords) > 0, segment_text('质量很好', spec))"
    )
    away = tmp_path / "elsewhere"
    away.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=away,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = out.stdout.strip().splitlines()
    assert first.startswith(str(target))
    assert second.startswith("True True [")
