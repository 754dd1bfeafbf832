"""Suite for ``bronze.reviews_raw`` (the rows a run is about to add)."""

from __future__ import annotations

from reviewlake.core.settings import Settings


def reviews_raw(cfg: Settings) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=cfg.quality.bronze.min_rows),
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="raw_text"),
        gxe.ExpectColumnValuesToNotBeNull(column="source_file"),
        gxe.ExpectColumnValuesToNotBeNull(column="batch_id"),
        gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=0, max_value=10),
    ]
