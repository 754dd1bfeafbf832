"""The id contract of gold.vocab and gold.features, in plain Python (no Spark, no TensorFlow):
id 0 = padding, id 1 = out of vocabulary, real tokens >= 2; a sequence keeps the first
``max_len`` tokens and is padded with 0 at the end, so it is always exactly ``max_len`` long.
Used by the feature builder, batch scoring and serving alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PAD_ID, OOV_ID = 0, 1
PAD_TOKEN, OOV_TOKEN = "<pad>", "<oov>"


def tokens_to_ids(tokens: Iterable[str] | None, vocab: Mapping[str, int], max_len: int) -> list[int]:
    """Ids of ``tokens`` (unknown -> 1), truncated to the first ``max_len``, padded with 0."""
    if max_len <= 0:
        raise ValueError(f"max_len must be positive, got {max_len}")
    ids: list[int] = []
    for token in tokens if tokens is not None else ():
        if len(ids) == max_len:
            break
        ids.append(int(vocab.get(token, OOV_ID)))
    return ids + [PAD_ID] * (max_len - len(ids))
