"""Print where the results of the last runs are (tables, reports, Data Docs, model, metrics)."""

from __future__ import annotations

import argparse
import json

from reviewlake.core.config import load_config


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lakehouse")
    args = p.parse_args()
    cfg = load_config(overrides=[f"lakehouse={args.lakehouse}"] if args.lakehouse else [])
    lake, reports, models = cfg.lakehouse_uri, cfg.reports_path, cfg.models_path  # absolute: see `home`
    print("\n== reviewlake: results")
    for table in (
        "bronze/reviews_raw",
        "bronze/quarantine",
        "bronze/files",
        "silver/reviews",
        "silver/disposition",
        "gold/vocab",
        "gold/labels",
        "gold/features",
        "gold/predictions",
    ):
        print(f"  table  {lake}/{table}")
    for job in ("clean_reviews", "build_features", "train_model", "score_reviews"):
        latest = reports / "runs" / job / "latest.json"
        if latest.exists():
            d = json.loads(latest.read_text(encoding="utf-8"))
            stages = ", ".join(f"{s['name']} {s['seconds']:.0f}s" for s in d["stages"])
            print(f"  report {latest}  ({stages})")
    print(f"  Data Docs {reports / 'data_docs' / 'index.html'}")
    pointer = models / "LATEST"
    if pointer.exists():
        version = pointer.read_text().strip()
        metrics = json.loads((models / version / "metrics.json").read_text(encoding="utf-8"))
        print(
            f"  model  {models / version}  champion {metrics.get('champion', 'lstm')}: "
            f"test accuracy={metrics['accuracy']:.4f} macro_f1={metrics['macro_f1']:.4f}"
        )


if __name__ == "__main__":
    main()
