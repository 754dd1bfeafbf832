"""What training reads, by name: per split (``train``, ``validation``, ``test``) the rows' named
arrays (:class:`SplitInputs`, what the network reads and must answer). Pure numpy: the driver
builds them and the Horovod ranks receive them as they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from reviewlake.train.model import INPUT_NAMES, model_inputs

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitInputs:
    """One split's rows in gold's order (by ``review_id``): the network's inputs (``token_ids``
    [n, max_len] int32; for ``wide_lstm`` also ``char_ids`` [n, char_len] int32 and ``char_weights``
    [n, char_len] float32), the class ids ``labels`` [n] and the ``review_ids`` [n]."""

    review_ids: np.ndarray
    labels: np.ndarray
    token_ids: np.ndarray
    char_ids: np.ndarray | None = None
    char_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def rows(self, index: np.ndarray) -> SplitInputs:
        """The rows at ``index`` (every array taken alike)."""
        return SplitInputs(**{name: a[index] if a is not None else None for name, a in self._arrays().items()})

    def with_chars(self, char_ids: np.ndarray, char_weights: np.ndarray) -> SplitInputs:
        """These rows with ``wide_lstm``'s char inputs."""
        return dataclasses.replace(self, char_ids=char_ids, char_weights=char_weights)

    def named(self) -> dict[str, np.ndarray]:
        """The network's inputs present, by input name (:data:`reviewlake.train.model.INPUT_NAMES`)."""
        return {name: getattr(self, name) for name in INPUT_NAMES if getattr(self, name) is not None}

    def model_inputs(self, architecture: str) -> Any:
        """What ``model.fit``/``predict`` take for ``architecture``."""
        return model_inputs(self.named(), architecture)

    def _arrays(self) -> dict[str, np.ndarray | None]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
