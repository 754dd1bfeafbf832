"""Suites for ``silver.reviews`` and ``silver.disposition``."""
from __future__ import annotations

from reviewlake.core.config import Config

OUTCOMES = ["kept", "exact_duplicate", "near_duplicate", "filtered"]


def reviews(cfg: Config) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=cfg["quality.silver.min_rows"]),
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="text"),
        gxe.ExpectColumnValuesToBeUnique(column="text_hash"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=list(cfg["labels.classes"])),
        gxe.ExpectColumnValuesToBeBetween(
            column="char_len", min_value=cfg["clean.min_chars"], max_value=cfg["clean.max_chars"]
        ),
        gxe.ExpectColumnValuesToBeBetween(column="token_count", min_value=0),
    ]


def disposition(cfg: Config) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=OUTCOMES),
        # null for kept rows; otherwise the cleaning rule or the dedupe kind that removed the row
        gxe.ExpectColumnValuesToBeInSet(column="rule", value_set=[*cfg["clean.rules"], "exact", "near", "label_conflict"]),
    ]
