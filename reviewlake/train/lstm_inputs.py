"""What the LSTM reads, per split: gold's token ids, and for ``wide_lstm`` the char inputs of the
fitted ``char_1_4gram`` model with the start of its linear part (reviewlake/train/model.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from reviewlake.train.data import SPLITS, GoldData, SplitInputs
from reviewlake.train.linear import LinearTextModel
from reviewlake.train.model import WIDE, WIDE_LINEAR, WideStart, predict
from reviewlake.train.params import Architecture, TrainParams


@dataclass(frozen=True)
class LstmInputs:
    """Every split's inputs for an LSTM of ``architecture``, and ``wide_lstm``'s start (None for
    the others)."""

    architecture: Architecture
    splits: Mapping[str, SplitInputs]
    wide: WideStart | None

    @property
    def char_len(self) -> int | None:
        return self.wide.char_len if self.wide is not None else None

    def probabilities(self, model, split: str, batch_size: int) -> np.ndarray:
        """``model``'s probabilities [rows, n_classes] (float64) on the rows of ``split``."""
        rows = self.splits[split]
        return predict(model, rows.model_inputs(self.architecture), len(rows), batch_size)


def lstm_inputs(gold: GoldData, params: TrainParams, linear_models: Mapping[str, LinearTextModel]) -> LstmInputs:
    """gold's splits as they are, or for ``wide_lstm`` with the char inputs of ``linear_models``'
    char model (at most ``params.char_len`` n-grams per row) and its coefficients as the start."""
    if params.architecture != WIDE:
        return LstmInputs(params.architecture, gold.splits, None)
    char_model = linear_models[WIDE_LINEAR]
    splits = {
        split: gold.splits[split].with_chars(*char_model.sparse_inputs(gold.text[split].text, params.char_len))
        for split in SPLITS
    }
    return LstmInputs(params.architecture, splits, WideStart(char_model.coef, char_model.intercept, params.char_len))
