"""The model card (``models/<version>/README.md``): what a reader needs to trust or reject a model
version, from its ``params.json`` and ``metrics.json`` (nothing else is read)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, (int, float)) else "n/a"


def _interval(ci: Any) -> str:
    return f"{_pct(ci[0])} - {_pct(ci[1])}" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "n/a"


def _architecture(arch: str) -> str:
    if arch == "wide_lstm":
        return (
            "`wide_lstm`: softmax of a word LSTM (Embedding -> LSTM -> Dense) plus a linear part over "
            "character 1-4-gram TF-IDF weights, that part starting from the fitted `char_1_4gram` model."
        )
    return f"`{arch}` (Embedding -> {arch} -> Dense softmax)."


def model_card(params: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """Markdown: data version, parameters, test metrics next to the baselines, per-class figures."""
    train = dict(params.get("train", {}))
    rows = params.get("rows", {})
    lines = [
        f"# Sentiment model {params.get('version')}",
        "",
        f"Created {params.get('created_at')} by run `{params.get('run_id')}`. "
        f"Serves `{metrics.get('champion', 'lstm')}` (members and weights {metrics.get('champion_members', {'lstm': 1.0})}), "
        "the candidate with the best validation accuracy, over "
        f"{params.get('n_classes')} classes {params.get('labels')}. The LSTM is "
        + _architecture(str(train.get("architecture", "lstm"))),
        "",
        "## Data",
        "",
        f"- gold tables: {params.get('tables')}",
        f"- table versions: {params.get('table_versions')}, vocabulary `{params.get('vocab_version')}` "
        f"({params.get('vocab_size')} ids, 0 = padding, 1 = OOV), sequences of {params.get('max_len')} ids",
        f"- rows: train {rows.get('train')}, validation {rows.get('validation')}, test {rows.get('test')} "
        "(split by dedupe cluster, stratified by label)",
        "",
        "## Candidates on the test split (chosen on validation; bootstrap 95% intervals)",
        "",
        "| model | kind | validation accuracy | test accuracy | 95% interval | macro-F1 | 95% interval | ECE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in (metrics.get("candidates") or {}).items():
        b = (metrics.get("baselines") or {}).get(name, {})
        label = f"`{name}`" + (" **(champion)**" if name == metrics.get("champion") else "")
        label += f" (regParam {b['reg_param']:g}, chosen on validation)" if "reg_param" in b else ""
        lines.append(
            f"| {label} | {c.get('kind')} | {_pct(c.get('validation_accuracy'))} | {_pct(c.get('accuracy'))} "
            f"| {_interval(c.get('accuracy_ci95'))} | {_pct(c.get('macro_f1'))} "
            f"| {_interval(c.get('macro_f1_ci95'))} | {float(c.get('ece', 0)):.3f} |"
        )
    if "mcnemar_p_vs_best_baseline" in metrics:
        lines += [
            "",
            f"Champion against the best baseline (`{metrics.get('best_baseline')}`), exact McNemar test "
            f"on the same test rows: p = {metrics['mcnemar_p_vs_best_baseline']:.3g}. "
            "Reliability: `reliability.png`.",
        ]
    lines += ["", f"The champion's per-class figures (test, {metrics.get('n')} rows):"]
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, c in (metrics.get("per_class") or {}).items():
        lines.append(
            f"| {name} | {_pct(c.get('precision'))} | {_pct(c.get('recall'))} | {_pct(c.get('f1'))} "
            f"| {c.get('support')} |"
        )
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
        "`reviewlake.train.champion.Scorer.from_model_dir(<this folder>).predict_raw(texts)` gives the "
        "champion's probabilities for raw review texts, cleaned and segmented as training saw them; batch "
        "scoring uses the same scorer. The LSTM alone: `saved_model/` signature `serving_default`: `token_ids` "
        f"int32 `[batch, {params.get('max_len')}]`"
        + (
            f", `char_ids` int32 and `char_weights` float32 `[batch, {params['char_inputs']['shape'][1]}]` "
            f"(`{params['char_inputs']['features']}`: `LinearTextModel.sparse_inputs`)"
            if params.get("char_inputs")
            else ""
        )
        + f" -> `probabilities` float32 `[batch, {params.get('n_classes')}]`, "
        "ids from `reviewlake.text.serving.TextToIds.from_model_dir(<this folder>)`.",
        "",
        "## Limits",
        "",
        "Trained on Chinese e-commerce reviews with binary sentiment labels; other domains, languages "
        "or very long texts (cut at max_len tokens) are outside what the test figures describe.",
        "",
    ]
    return "\n".join(lines)
