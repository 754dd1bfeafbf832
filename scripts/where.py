"""Print where the results of the last runs are (tables, run reports, Data Docs, lineage events,
model and its metrics). Takes the jobs' own ``--lakehouse``, ``--config`` and ``--conf`` (``make
demo`` passes what it gave the chain), so it looks where the runs wrote."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reviewlake.core import cli, tables
from reviewlake.core.settings import Settings

JOBS = ("clean_reviews", "build_features", "label_issues", "train_model", "score_reviews")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse")
    p.add_argument("--config")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    cfg = cli.config_from_args(p.parse_args(argv))
    print("\n== reviewlake: results")
    for t in tables.CATALOGUE:
        print(f"  table     {t.uri(cfg)}")
    lineage = set()
    for job in JOBS:
        latest = cfg.reports_path / "runs" / job / "latest.json"
        if latest.exists():
            report = json.loads(latest.read_text(encoding="utf-8"))
            stages = ", ".join(f"{s['name']} {s['seconds']:.0f}s" for s in report["stages"])
            print(f"  report    {latest}  ({stages})")
            sent = report["summary"].get("lineage", {})
            lineage.add(sent.get("location") or sent.get("url"))
    docs = cfg.reports_path / "data_docs" / "index.html"
    if docs.exists():
        print(f"  Data Docs {docs}")
    for where in sorted(filter(None, lineage)):
        print(f"  lineage   {where}  (OpenLineage events: docs/operations.md#lineage-openlineage)")
    print_model(cfg)


def print_model(cfg: Settings) -> None:
    pointer = cfg.models_path / "LATEST"
    if not pointer.exists():
        return
    version = pointer.read_text().strip()
    metrics = json.loads((cfg.models_path / version / "metrics.json").read_text(encoding="utf-8"))
    print(
        f"  model     {Path(cfg.models_path) / version}  champion {metrics.get('champion', 'lstm')}: "
        f"test accuracy={metrics['accuracy']:.4f} macro_f1={metrics['macro_f1']:.4f}"
    )


if __name__ == "__main__":
    main()
