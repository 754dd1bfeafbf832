"""The parameters that shape a training run: the model and optimiser keys of the ``train`` settings
section, as one frozen record that the driver hands to every Horovod rank as is, that keys the
checkpoint folder and that a model version records (params.json ``train``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from reviewlake.core.settings import Train

Architecture = Literal["wide_lstm", "lstm", "bilstm", "cnn"]


@dataclass(frozen=True)
class TrainParams:
    """``train.*`` keys that shape the model and its training (docs/configuration.md has each)."""

    architecture: Architecture
    epochs: int
    batch_size: int
    learning_rate: float  # per process; the ranks scale it by the world size
    warmup_epochs: int
    clip_norm: float | None
    embedding_dim: int
    lstm_units: int
    cnn_filters: int
    cnn_widths: tuple[int, ...]
    dropout: float
    class_weight: Literal["balanced", "none"]
    seed: int
    patience: int
    char_len: int

    @classmethod
    def of(cls, train: Train) -> TrainParams:
        """The parameters of the settings section ``train`` (typed and checked when it was built)."""
        return cls(**{f.name: getattr(train, f.name) for f in dataclasses.fields(cls)})
