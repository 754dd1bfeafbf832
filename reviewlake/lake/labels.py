"""Label normalisation: a given label column, else the rating, to negative/neutral/positive."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain

from pyspark.sql import Column
from pyspark.sql import functions as F

# Values seen in review corpora for each class (compared lower-cased and trimmed).
LABEL_ALIASES: dict[str, tuple[str, ...]] = {
    "positive": ("positive", "pos", "1", "+1", "正面", "好评", "积极", "正向"),
    "negative": ("negative", "neg", "0", "-1", "负面", "差评", "消极", "负向"),
    "neutral": ("neutral", "neu", "中性", "中评"),
}


def _literal_map(mapping: Mapping[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for x in chain.from_iterable(mapping.items())])


def label_column(label_raw: Column, rating: Column, from_rating: Mapping) -> Column:
    """The normalised label: the label column's value if recognised, else by rating, else null."""
    aliases = {alias: label for label, names in LABEL_ALIASES.items() for alias in names}
    by_rating = {str(int(k)): v for k, v in from_rating.items()}
    return F.coalesce(
        F.element_at(_literal_map(aliases), F.lower(F.trim(label_raw))),
        F.element_at(_literal_map(by_rating), rating.cast("string")),
    )
