"""scripts/where.py (the last lines of ``make demo``) looks where the runs wrote: the lakehouse, and
the reports and models folders that ``--conf`` (``make demo CONF=...``) or ``--config`` gave them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_where_reads_the_reports_and_model_the_runs_were_given(tmp_path):
    reports, models = tmp_path / "elsewhere" / "reports", tmp_path / "elsewhere" / "models"
    events = reports / "lineage" / "20261203T000000Z-1.jsonl"
    report = {"stages": [{"name": "split", "seconds": 3.2}], "summary": {"lineage": {"location": str(events)}}}
    (reports / "runs" / "build_features").mkdir(parents=True)
    (reports / "runs" / "build_features" / "latest.json").write_text(json.dumps(report), encoding="utf-8")
    (models / "v1").mkdir(parents=True)
    (models / "LATEST").write_text("v1\n", encoding="utf-8")
    metrics = {"champion": "ensemble", "accuracy": 0.9, "macro_f1": 0.89}
    (models / "v1" / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    config = tmp_path / "site.yaml"
    config.write_text(f"models_dir: {models}\n", encoding="utf-8")

    args = ["--lakehouse", str(tmp_path / "lake"), "--config", str(config), "--conf", f"reports_dir={reports}"]
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "where.py"), *args], capture_output=True, text=True, check=True
    ).stdout
    assert f"table     file:{tmp_path / 'lake'}/silver/reviews" in out
    assert f"report    {reports / 'runs' / 'build_features' / 'latest.json'}  (split 3s)" in out
    assert f"lineage   {events}" in out
    assert f"model     {models / 'v1'}  champion ensemble: test accuracy=0.9000" in out
