"""Suites for ``gold.vocab``, ``gold.features`` (validated with ``n_token_ids``) and
``gold.label_issues`` (validated with ``relabels``: given and suggested label differ)."""

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


def label_issues(class_names: list[str], labelled_rows: int) -> list:
    """The review queue: at most one row per labelled review, both labels known classes and
    different, ``label_quality`` in [0, 1], ``rank`` 1.. unique. An empty queue passes (nothing
    suspect is a valid outcome)."""
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=labelled_rows),
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="given_label"),
        gxe.ExpectColumnValuesToNotBeNull(column="suggested_label"),
        gxe.ExpectColumnValuesToBeInSet(column="given_label", value_set=list(class_names)),
        gxe.ExpectColumnValuesToBeInSet(column="suggested_label", value_set=list(class_names)),
        gxe.ExpectColumnValuesToBeInSet(column="relabels", value_set=[True]),
        gxe.ExpectColumnValuesToNotBeNull(column="label_quality"),
        gxe.ExpectColumnValuesToBeBetween(column="label_quality", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="rank"),
        gxe.ExpectColumnValuesToBeUnique(column="rank"),
        gxe.ExpectColumnValuesToBeBetween(column="rank", min_value=1, max_value=max(labelled_rows, 1)),
    ]
