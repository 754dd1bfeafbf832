"""Suites for ``gold.vocab`` and ``gold.features`` (features validated with ``n_token_ids``)."""

from __future__ import annotations

from reviewlake.core.settings import Settings


def vocab(cfg: Settings) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=cfg.features.vocab_size),
        gxe.ExpectColumnValuesToBeUnique(column="token"),
        gxe.ExpectColumnValuesToBeUnique(column="token_id"),
        gxe.ExpectColumnValuesToBeBetween(column="token_id", min_value=2),
        gxe.ExpectColumnValuesToBeBetween(column="doc_freq", min_value=cfg.features.min_df),
    ]


def features(cfg: Settings, n_classes: int, max_len: int) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=cfg.quality.gold.min_rows),
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "validation", "test"]),
        gxe.ExpectColumnDistinctValuesToContainSet(column="split", value_set=["train"]),
        gxe.ExpectColumnValuesToNotBeNull(column="label_id"),
        gxe.ExpectColumnValuesToBeBetween(column="label_id", min_value=0, max_value=n_classes - 1),
        gxe.ExpectColumnValuesToBeBetween(column="n_token_ids", min_value=max_len, max_value=max_len),
    ]
