"""Stage 2, clean: an ordered list of named rules over the review text.

A rule states only its decision:
* a :class:`MapRule` rewrites the text (``Column -> Column``);
* a :class:`FilterRule` says whether a row is kept (``Column -> boolean Column``).

One shared mechanism, :func:`apply_rules`, runs them in the configured order and records, per
row, which map rules changed the text (``changed_by``) and the first filter that dropped it
(``filtered_by``); :func:`rule_counts` turns that into the per-rule numbers of the run report
in a single aggregation. Everything is a Spark column expression or an Arrow pandas UDF.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from reviewlake.core.settings import Clean
from reviewlake.text.clean_rules import FilterRule, MapRule, Rule, spark_rules  # noqa: F401  (re-exported)
from reviewlake.text.signals import measured_rules


def build_rules(clean: Clean) -> list[Rule]:
    """The rules named in ``clean.rules``, in that order, as Spark forms (each rule is declared once
    in :mod:`reviewlake.text.clean_rules`); an unknown name is a ``ConfigError``."""
    return spark_rules(clean)


def apply_rules(
    df: DataFrame, rules: Sequence[Rule], source: str = "raw_text", measured: str | None = None
) -> DataFrame:
    """Add ``text`` (cleaned), ``changed_by`` (array of map-rule names) and ``filtered_by``.

    Filters see the text as cleaned by the rules before them; a filtered row keeps its text
    for the ledger. Rows are never removed here (the caller splits on ``filtered_by``).
    With ``measured``, also add that column: the text as the rules leave it just before the first
    run-collapsing rule (:func:`reviewlake.text.signals.measured_rules`), what the soft signals
    are measured on.
    """
    out = (
        df.withColumn("text", F.coalesce(F.col(source), F.lit("")))
        .withColumn("changed_by", F.array().cast("array<string>"))
        .withColumn("filtered_by", F.lit(None).cast("string"))
    )
    before = len(measured_rules([r.name for r in rules]))
    for i, rule in enumerate(rules):
        if measured and i == before:
            out = out.withColumn(measured, F.col("text"))
        if isinstance(rule, MapRule):
            out = out.withColumn("_prev", F.col("text")).withColumn("text", rule.fn(F.col("text")))
            out = out.withColumn(
                "changed_by",
                F.when(F.col("text") != F.col("_prev"), F.array_append("changed_by", F.lit(rule.name))).otherwise(
                    F.col("changed_by")
                ),
            ).drop("_prev")
        else:
            out = out.withColumn(
                "filtered_by",
                F.coalesce(F.col("filtered_by"), F.when(~rule.keep(F.col("text")), F.lit(rule.name))),
            )
    if measured and before == len(rules):
        out = out.withColumn(measured, F.col("text"))
    return out


def rule_counts(cleaned: DataFrame, rules: Sequence[Rule]) -> tuple[int, dict[str, dict[str, int]]]:
    """(rows, ``{rule: {"changed": n}}`` for map rules / ``{rule: {"removed": n}}`` for filters),
    computed in one aggregation."""
    aggs = [F.count(F.lit(1)).alias("_rows")]
    for rule in rules:
        if isinstance(rule, MapRule):
            aggs.append(F.sum(F.array_contains("changed_by", rule.name).cast("long")).alias(rule.name))
        else:
            aggs.append(F.sum((F.col("filtered_by") == rule.name).cast("long")).alias(rule.name))
    row = cleaned.agg(*aggs).first()
    counts = {r.name: {("changed" if isinstance(r, MapRule) else "removed"): int(row[r.name] or 0)} for r in rules}
    return int(row["_rows"]), counts
