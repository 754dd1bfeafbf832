"""Suites for the change sets of ``silver.reviews`` and ``silver.disposition``.

They validate the rows a run upserts, not the tables as they will be: a row the run does not touch
passed the gate of the run that wrote it. What only the whole table can tell is checked without
reading it again: uniqueness of ``review_id`` follows from the MERGE on that key (the change set's
ids are unique), a new ``text_hash`` must not clash with a published row the run keeps
(``clashes_with``, see :func:`reviewlake.jobs.clean_reviews.silver_audit_view`), and the table's
row count comes from the figures the run computes for its invariant (``min_rows``).
"""

from __future__ import annotations

from reviewlake.core.settings import Settings

OUTCOMES = ["kept", "exact_duplicate", "near_duplicate", "filtered"]


def min_rows(cfg: Settings) -> int:
    """The fewest rows ``silver.reviews`` may hold after a run."""
    return cfg.quality.silver.min_rows


def reviews(cfg: Settings) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="text"),
        gxe.ExpectColumnValuesToBeUnique(column="text_hash"),
        # the published row (kept by this run) whose text_hash the upserted row repeats
        gxe.ExpectColumnValuesToBeNull(column="clashes_with"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=list(cfg.labels.classes)),
        gxe.ExpectColumnValuesToBeBetween(
            column="char_len", min_value=cfg.clean.min_chars, max_value=cfg.clean.max_chars
        ),
        gxe.ExpectColumnValuesToBeBetween(column="token_count", min_value=0),
    ]


def disposition(cfg: Settings) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=OUTCOMES),
        # null for kept rows; otherwise the cleaning rule or the dedupe kind that removed the row
        gxe.ExpectColumnValuesToBeInSet(column="rule", value_set=[*cfg.clean.rules, "exact", "near", "label_conflict"]),
    ]
