"""The model card (``models/<version>/README.md``): what a reader needs to trust or reject a model
version, from the records its ``params.json`` and ``metrics.json`` are written from (nothing else
is read)."""

from __future__ import annotations

import dataclasses

from reviewlake.train.metrics import Candidate, Metrics
from reviewlake.train.version_params import VersionParams


def _pct(value: float | None) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, (int, float)) else "n/a"


def _interval(ci: list[float]) -> str:
    return f"{_pct(ci[0])} - {_pct(ci[1])}" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "n/a"


def _architecture(arch: str) -> str:
    if arch == "wide_lstm":
        return (
            "`wide_lstm`: softmax of a word LSTM (Embedding -> LSTM -> Dense) plus a linear part over "
            "character 1-4-gram TF-IDF weights, that part starting from the fitted `char_1_4gram` model."
        )
    return f"`{arch}` (Embedding -> {arch} -> Dense softmax)."


def model_card(params: VersionParams, metrics: Metrics) -> str:
    """Markdown: data version, parameters, test metrics next to the baselines, per-class figures."""
    sections = (_header, _candidates, _per_class, _training, _serving, _limits)
    return "\n".join(line for section in sections for line in section(params, metrics))


def _header(params: VersionParams, metrics: Metrics) -> list[str]:
    choice, rows = metrics.choice, params.rows
    return [
        f"# Sentiment model {params.version}",
        "",
        f"Created {params.created_at} by run `{params.run_id}`. "
        f"Serves `{choice.champion}` (members and weights {choice.champion_members}), "
        "the candidate with the best validation accuracy, over "
        f"{params.n_classes} classes {params.labels}. The LSTM is " + _architecture(params.train.architecture),
        "",
        "## Data",
        "",
        f"- gold tables: {params.tables}",
        f"- table versions: {params.table_versions}, vocabulary `{params.vocab_version}` "
        f"({params.vocab_size} ids, 0 = padding, 1 = OOV), sequences of {params.max_len} ids",
        f"- rows: train {rows['train']}, validation {rows['validation']}, test {rows['test']} "
        "(split by dedupe cluster, stratified by label)",
        _label_issues_line(params),
    ]


def _label_issues_line(params: VersionParams) -> str:
    use = params.label_issues
    if use.mode == "keep":
        return "- likely mislabelled reviews (gold/label_issues): kept (`train.label_issues=keep`)"
    return (
        f"- likely mislabelled reviews: {use.dropped['train']} train and {use.dropped['validation']} "
        f"validation rows of gold/label_issues version {use.table_version} dropped "
        "(`train.label_issues=drop`); the test split is as sampled"
    )


def _candidates(params: VersionParams, metrics: Metrics) -> list[str]:
    choice = metrics.choice
    lines = [
        "",
        "## Candidates on the test split (chosen on validation; bootstrap 95% intervals)",
        "",
        "| model | kind | validation accuracy | test accuracy | 95% interval | macro-F1 | 95% interval | ECE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_candidate_row(name, c, metrics) for name, c in choice.candidates.items()]
    return lines + [
        "",
        f"Champion against the best baseline (`{choice.best_baseline}`), exact McNemar test "
        f"on the same test rows: p = {choice.mcnemar_p_vs_best_baseline:.3g}. "
        "Reliability: `reliability.png`.",
    ]


def _candidate_row(name: str, c: Candidate, metrics: Metrics) -> str:
    baseline = metrics.baselines.get(name)
    label = f"`{name}`" + (" **(champion)**" if name == metrics.choice.champion else "")
    if baseline is not None and baseline.fit is not None:
        label += f" (regParam {baseline.fit.reg_param:g}, chosen on validation)"
    return (
        f"| {label} | {c.kind} | {_pct(c.validation_accuracy)} | {_pct(c.accuracy)} "
        f"| {_interval(c.accuracy_ci95)} | {_pct(c.macro_f1)} "
        f"| {_interval(c.macro_f1_ci95)} | {c.ece:.3f} |"
    )


def _per_class(params: VersionParams, metrics: Metrics) -> list[str]:
    lines = ["", f"The champion's per-class figures (test, {metrics.test.n} rows):"]
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, c in metrics.test.per_class.items():
        lines.append(f"| {name} | {_pct(c.precision)} | {_pct(c.recall)} | {_pct(c.f1)} | {c.support} |")
    return lines + [
        "",
        "Confusion matrix: `confusion_matrix.png` / `metrics.json`; training curves: `training_curves.png`.",
    ]


def _training(params: VersionParams, metrics: Metrics) -> list[str]:
    train = {f.name: getattr(params.train, f.name) for f in dataclasses.fields(params.train)}
    resumed = f", resumed after epoch {params.resumed_from_epoch}" if params.resumed_from_epoch else ""
    return [
        "",
        "## Training",
        "",
        f"- Horovod processes: {params.num_proc} on {params.devices}; "
        f"{params.train_rows_per_rank} training rows per process; "
        f"{params.samples_per_s:.0f} samples/s",
        f"- epochs run {metrics.epochs_run}, best (kept) epoch {metrics.best_epoch}" + resumed,
        "- parameters: " + ", ".join(f"{k}={v}" for k, v in train.items()),
    ]


def _serving(params: VersionParams, metrics: Metrics) -> list[str]:
    chars = params.char_inputs
    return [
        "",
        "## Serving",
        "",
        "`reviewlake.train.champion.Scorer.from_model_dir(<this folder>).predict_raw(texts)` gives the "
        "champion's probabilities for raw review texts, cleaned and segmented as training saw them; batch "
        "scoring uses the same scorer. Both run `champion_model/`, the champion as one SavedModel (the one to "
        "give TF Serving), on the inputs `Scorer.serving_inputs_raw(texts)` makes (docs/training.md, Serving). "
        "The LSTM alone: `saved_model/` signature `serving_default`: `token_ids` "
        f"int32 `[batch, {params.max_len}]`"
        + (
            f", `char_ids` int32 and `char_weights` float32 `[batch, {chars.shape[1]}]` "
            f"(`{chars.features}`: `LinearTextModel.sparse_inputs`)"
            if chars is not None
            else ""
        )
        + f" -> `probabilities` float32 `[batch, {params.n_classes}]`, "
        "ids from `reviewlake.text.serving.TextToIds.from_model_dir(<this folder>)`.",
    ]


def _limits(params: VersionParams, metrics: Metrics) -> list[str]:
    return [
        "",
        "## Limits",
        "",
        "Trained on Chinese e-commerce reviews with binary sentiment labels; other domains, languages "
        "or very long texts (cut at max_len tokens) are outside what the test figures describe.",
        "",
    ]
