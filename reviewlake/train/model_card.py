"""The model card (``models/<version>/README.md``): what a reader needs to trust or reject a model
version, from its ``params.json`` and ``metrics.json`` (nothing else is read)."""
from __future__ import annotations

from typing import Any, Mapping


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, (int, float)) else "n/a"


def model_card(params: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """Markdown: data version, parameters, test metrics next to the baselines, per-class figures."""
    train = dict(params.get("train", {}))
    rows = params.get("rows", {})
    lines = [
        f"# Sentiment model {params.get('version')}",
        "",
        f"Created {params.get('created_at')} by run `{params.get('run_id')}`. "
        f"Architecture `{train.get('architecture', 'lstm')}` (Embedding -> {train.get('architecture', 'lstm')} -> "
        f"Dense softmax) over {params.get('n_classes')} classes {params.get('labels')}.",
        "",
        "## Data",
        "",
        f"- gold tables: {params.get('tables')}",
        f"- table versions: {params.get('table_versions')}, vocabulary `{params.get('vocab_version')}` "
        f"({params.get('vocab_size')} ids, 0 = padding, 1 = OOV), sequences of {params.get('max_len')} ids",
        f"- rows: train {rows.get('train')}, validation {rows.get('validation')}, test {rows.get('test')} "
        "(split by dedupe cluster, stratified by label)",
        "",
        "## Test metrics and baselines (same test split)",
        "",
        "| model | accuracy | macro-F1 |",
        "|---|---|---|",
        f"| this model | {_pct(metrics.get('accuracy'))} | {_pct(metrics.get('macro_f1'))} |",
    ]
    for name, b in (metrics.get("baselines") or {}).items():
        chosen = f" (regParam {b['reg_param']:g}, chosen on validation)" if "reg_param" in b else ""
        lines.append(f"| baseline `{name}`{chosen} | {_pct(b.get('accuracy'))} | {_pct(b.get('macro_f1'))} |")
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, c in (metrics.get("per_class") or {}).items():
        lines.append(f"| {name} | {_pct(c.get('precision'))} | {_pct(c.get('recall'))} | {_pct(c.get('f1'))} "
                     f"| {c.get('support')} |")
    lines += [
        "",
        "Confusion matrix: `confusion_matrix.png` / `metrics.json`; training curves: `training_curves.png`.",
        "",
        "## Training",
        "",
        f"- Horovod processes: {params.get('num_proc')} on {params.get('devices')}; "
        f"{params.get('train_rows_per_rank')} training rows per process; "
        f"{float(params.get('samples_per_s') or 0):.0f} samples/s",
        f"- epochs run {metrics.get('epochs_run')}, best (kept) epoch {metrics.get('best_epoch')}"
        + (f", resumed after epoch {params.get('resumed_from_epoch')}" if params.get("resumed_from_epoch") else ""),
        "- parameters: " + ", ".join(f"{k}={v}" for k, v in train.items() if k != "fail_after_epoch"),
        "",
        "## Serving",
        "",
        "`saved_model/` signature `serving_default`: `token_ids` int32 `[batch, "
        f"{params.get('max_len')}]` -> `probabilities` float32 `[batch, {params.get('n_classes')}]`. "
        "Turn raw text into ids with `reviewlake.text.serving.TextToIds.from_model_dir(<this folder>)`: the "
        "pipeline's cleaning rules, jieba segmentation, `vocab.txt` and padding, exactly as training saw them.",
        "",
        "## Limits",
        "",
        "Trained on Chinese e-commerce reviews with binary sentiment labels; other domains, languages "
        "or very long texts (cut at max_len tokens) are outside what the test figures describe.",
        "",
    ]
    return "\n".join(lines)
