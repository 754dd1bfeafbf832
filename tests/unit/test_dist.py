"""The ``--py-files`` zip (scripts/make_dist.py, ``make dist``) is the package a cluster's driver and
executors import: loaded from the zip alone, away from the repository, it reads its default
configuration and segmenter files (package data inside the zip) and segments text."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_zip_holds_the_package_and_works_on_its_own(tmp_path):
    out = tmp_path / "reviewlake.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_dist.py"), str(out)], check=True, timeout=120)
    names = zipfile.ZipFile(out).namelist()
    assert {n.split("/")[0] for n in names} == {"reviewlake"}
    assert "reviewlake/conf/reviewlake.yaml" in names and "reviewlake/conf/userdict.txt" in names
    code = (
        "import reviewlake; from reviewlake.core.config import load_config; "
        "from reviewlake.text.segment import SegmenterSpec, segment_text; "
        "spec = SegmenterSpec.from_config(load_config().segment); "
        "print(reviewlake.__file__); print(len(spec.stopwords) > 0, segment_text('质量很好', spec))"
    )
    env = {k: v for k, v in os.environ.items() if k != "REVIEWLAKE_CONFIG"}
    got = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONPATH": str(out)},
    )
    assert got.returncode == 0, got.stderr[-2000:]
    where, seg = got.stdout.strip().splitlines()
    assert where.startswith(str(out) + os.sep) and seg.startswith("True [")
