"""The baselines the LSTM is measured against: the majority class of the training labels, and the
linear TF-IDF models (reviewlake/train/linear.py), fitted with Spark ML on silver's text and tokens
of the gold splits (``train.tfidf_baseline``); each linear model is also a candidate for the
version's champion, and ``wide_lstm`` starts from the ``char_1_4gram`` one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame

from reviewlake.core.settings import Train
from reviewlake.errors import ConfigError
from reviewlake.train import linear
from reviewlake.train.data import GoldData
from reviewlake.train.metrics import Baseline, Classification, LinearFit

log = logging.getLogger(__name__)

MAJORITY = "majority"


@dataclass(frozen=True)
class Baselines:
    """``metrics`` by name (``majority`` first, then each linear kind: metrics.json ``baselines``);
    the fitted linear ``models`` and their probabilities on the ``validation`` and ``test`` rows."""

    metrics: dict[str, Baseline]
    models: dict[str, linear.LinearTextModel]
    validation: dict[str, np.ndarray]
    test: dict[str, np.ndarray]

    def accuracies(self) -> dict[str, float]:
        return {name: b.test.accuracy for name, b in self.metrics.items()}


def reg_param_grid(train: Train) -> list[float]:
    """The baseline's regParam values: ``train.logreg_reg_params`` (a list, or one value); the older
    single-value key ``train.logreg_reg_param`` wins where a user config still sets it."""
    grid = train.logreg_reg_params
    if train.logreg_reg_param is not None:
        grid = train.logreg_reg_param
        log.warning("train.logreg_reg_param is deprecated: use train.logreg_reg_params (a list)")
    values = list(grid) if isinstance(grid, tuple) else [grid]
    if not values:
        raise ConfigError("train.logreg_reg_params holds no value")
    return values


def fit_baselines(gold: GoldData, frame: DataFrame | None, train: Train) -> Baselines:
    """The majority class, and with ``frame`` (gold rows with silver text: reviewlake/train/gold.py)
    each linear kind (regParam from ``train.logreg_reg_params``, chosen on validation)."""
    metrics = {MAJORITY: Baseline.majority(gold.train.labels, gold.test.labels, gold.class_names)}
    models, validation, test = {}, {}, {}
    if frame is not None:
        for kind in linear.KINDS:
            fitted = linear.fit(frame, kind, reg_param_grid(train), max_iter=train.logreg_max_iter)
            model = models[kind] = fitted.model
            validation[kind] = model.probabilities(gold.text["validation"].column(model.column))
            test[kind] = model.probabilities(gold.text["test"].column(model.column))
            log.info(
                "linear %s: regParam %g, validation accuracy %.4f, %d features",
                kind,
                model.reg_param,
                fitted.validation_accuracy,
                len(model.vocabulary),
            )
            metrics[kind] = Baseline(
                Classification.of(gold.test.labels, test[kind].argmax(axis=1), gold.class_names),
                fit=LinearFit(**fitted.summary()),
            )
    return Baselines(metrics, models, validation, test)
