"""Linear text classifiers: TF-IDF of word or character n-grams -> logistic regression.

Fitted with Spark ML (``CountVectorizer(binary) -> IDF -> Normalizer(L2) -> LogisticRegression``,
multinomial, no feature standardisation, ``regParam`` chosen on the validation split), then held
as :class:`LinearTextModel`, a plain numpy form of the same fitted pipeline that scores without
Spark: batch scoring (inside a pandas UDF), serving and the training job's own evaluation all call
it, so their probabilities are the same numbers (``tests/integration/test_linear.py`` holds it
equal to Spark ML's ``probability``).

Two feature kinds (``KINDS``), both from what the pipeline already produces for every review:

* ``word_1_2gram``: silver ``tokens`` (jieba), unigrams and bigrams;
* ``char_1_4gram``: silver ``text`` (the cleaned text), character 1- to 4-grams.

The n-grams are made by the one Python function per kind below, run as a Spark UDF when fitting
and called directly when scoring: Spark ML's ``NGram`` makes one order at a time and its joining
convention would then have to be copied by hand for serving; one function cannot disagree with itself.

What each task carries. A Spark task carries its closure and the lineage of the rows it reads;
Spark warns ("Broadcasting large task binary") past 1 MiB. Two things here made that megabytes
per task, and are avoided:

* A cached frame's whole lineage travels in every task even though the rows come from the cache,
  and the featurized rows' lineage holds IDFModel's UDF, which captures the whole IDF model: its
  idf and document-frequency arrays, 16 bytes a feature (3.9 MiB for the 258,631 features of
  ``char_1_4gram`` on the bundled corpus, 0.8 MiB for ``word_1_2gram``'s 53,890). So the fit
  reads a local checkpoint of those rows (the same rows, order and partitions), and its ~100
  iterations per regParam ship kilobytes. (Two fits of the same rows still differ in the last
  bits, ~1e-14 after 10 iterations on the bundled corpus: the driver adds the partitions'
  gradients in the order their tasks finish.) The job that computes the
  checkpoint applies the idf weights from a broadcast variable rather than through IDFModel
  (which puts the model in its UDF): the same products, shipped once per executor.
* ``LogisticRegressionModel.evaluate`` scores with UDFs that capture the model, its coefficient
  matrix (classes x features doubles, 3.9 MiB more). The validation accuracy that chooses regParam
  is the numpy form's instead, on the driver (which holds the splits anyway:
  reviewlake/train/gold.py), with Spark ML's arithmetic (tests/integration/test_linear.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SEP = "\u0001"  # joins the parts of a word n-gram: a byte no token holds (jieba splits on controls)


def word_grams(tokens: Iterable[str] | None) -> list[str]:
    """Unigrams and bigrams of ``tokens`` (a bigram is its two tokens joined by ``SEP``)."""
    t = [str(x) for x in (tokens if tokens is not None else ())]
    return t + [a + SEP + b for a, b in zip(t, t[1:], strict=False)]  # each token with the next: one pair fewer


def char_grams(text: str | None, n_max: int = 4) -> list[str]:
    """Character 1- to ``n_max``-grams of ``text``, in order of position then length."""
    s = text or ""
    return [s[i : i + n] for i in range(len(s)) for n in range(1, n_max + 1) if i + n <= len(s)]


#: kind -> (silver column it reads, its n-gram function)
KINDS: dict[str, tuple[str, Callable[[Any], list[str]]]] = {
    "word_1_2gram": ("tokens", word_grams),
    "char_1_4gram": ("text", char_grams),
}


@dataclass
class LinearTextModel:
    """A fitted TF-IDF + logistic regression model as numpy arrays: ``vocabulary`` (n-gram i is
    feature i), ``idf`` [d], ``coef`` [k, d], ``intercept`` [k]. ``probabilities`` repeats Spark
    ML's arithmetic: binary term presence x idf, L2-normalised, softmax(coef . x + intercept)."""

    kind: str
    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    reg_param: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown linear model kind {self.kind!r} (one of {sorted(KINDS)})")
        self._index = {g: i for i, g in enumerate(self.vocabulary)}

    @property
    def column(self) -> str:
        """The silver column this model reads (``tokens`` or ``text``)."""
        return KINDS[self.kind][0]

    def _features(self, value: Any) -> tuple[np.ndarray, np.ndarray]:
        """One input's features: their numbers (unordered) and L2-normalised idf weights (both
        empty when none is in the vocabulary)."""
        index = self._index
        ids = np.fromiter({index[g] for g in KINDS[self.kind][1](value) if g in index}, dtype=np.int64)
        w = self.idf[ids]
        norm = np.sqrt(np.dot(w, w))
        return (ids, w / norm) if norm > 0 else (ids[:0], w[:0])

    def probabilities(self, inputs: Sequence[Any]) -> np.ndarray:
        """Class probabilities [n, k] (float64) for ``inputs``: token lists or texts, per ``column``."""
        out = np.empty((len(inputs), len(self.intercept)), dtype=np.float64)
        for row, value in enumerate(inputs):
            ids, x = self._features(value)
            margins = self.intercept + self.coef[:, ids] @ x
            e = np.exp(margins - margins.max())
            out[row] = e / e.sum()
        return out

    def accuracy(self, inputs: Sequence[Any], labels: Sequence[float]) -> float:
        """The share of ``inputs`` whose most probable class is their label (0.0 without inputs):
        Spark ML's ``accuracy`` of the same rows."""
        if not len(inputs):
            return 0.0
        return float(np.mean(self.probabilities(inputs).argmax(axis=1) == np.asarray(labels, dtype=np.float64)))

    def sparse_inputs(self, inputs: Sequence[Any], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The model's features of ``inputs`` as sparse rows: ``ids`` [n, length] int32 (feature i
        as i + 1, 0 pads) and ``weights`` [n, length] float32 (idf, L2-normalised over the row's
        features), exactly the features :meth:`probabilities` uses, lowest feature number first.

        ``length=None`` (the champion SavedModel's linear inputs): as wide as the row with the most
        features (at least 1), so no row is truncated and softmax(intercept + sum_j coef[:, id_j -
        1] * weight_j) is :meth:`probabilities`. A fixed ``length`` (what ``wide_lstm`` reads,
        :mod:`reviewlake.train.model`): a row with more features keeps the ``length`` most frequent
        in the training corpus (the lowest feature numbers) with their weights unchanged. (On the
        bundled corpus about 1% of reviews have more than 600; on the 18 such validation rows
        keeping the most frequent agreed with the full model's class on 17, keeping the largest
        weights on 14.)"""
        rows = [self._features(value) for value in inputs]
        if length is None:
            length = max([1, *(len(found) for found, _ in rows)])
        ids = np.zeros((len(rows), length), dtype=np.int32)
        weights = np.zeros((len(rows), length), dtype=np.float32)
        for row, (found, x) in enumerate(rows):
            kept = np.argsort(found)[:length]  # most frequent first
            ids[row, : len(kept)] = found[kept] + 1
            weights[row, : len(kept)] = x[kept]
        return ids, weights

    def save(self, path: str | Path) -> None:
        """One ``.npz`` file (no pickles): what :meth:`load` reads back."""
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            kind=np.array(self.kind),
            vocabulary=np.array(self.vocabulary, dtype=np.str_),
            idf=self.idf,
            coef=self.coef,
            intercept=self.intercept,
            reg_param=np.array(self.reg_param),
        )
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> LinearTextModel:
        with np.load(Path(path), allow_pickle=False) as z:
            return cls(
                str(z["kind"]), z["vocabulary"].tolist(), z["idf"], z["coef"], z["intercept"], float(z["reg_param"])
            )


def fit(
    frame,
    kind: str,
    reg_params: Sequence[float],
    *,
    max_iter: int = 100,
    min_df: float = 2.0,
    vocab_size: int = 1 << 18,
) -> Fitted:
    """Fit ``kind`` on the ``train`` rows of ``frame`` (``split``, ``label`` double, and the kind's
    column), once per ``reg_params`` value; keep the value with the best validation accuracy. The
    fit reads a local checkpoint of the featurized rows, and the validation accuracy is the numpy
    form's: see "What each task carries" in the module doc."""
    from pyspark.ml import PipelineModel
    from pyspark.sql import functions as F

    column, grams_udf = KINDS[kind][0], _grams_udf(kind)
    train = frame.where(F.col("split") == "train").select("label", grams_udf(F.col(column)).alias("grams")).cache()
    validation = frame.where(F.col("split") == "validation").select(column, "label").collect()
    try:
        featurize = _featurizer(train, min_df, vocab_size)
        with _checkpointed(_featurized(train, featurize).select("label", "features")) as x_train:
            inputs, labels = [r[column] for r in validation], [r["label"] for r in validation]
            model, val_acc, lr = _best_reg_param(kind, featurize, x_train, reg_params, max_iter, (inputs, labels))
    finally:
        train.unpersist()
    return Fitted(model, val_acc, PipelineModel(stages=[*featurize.stages, lr]), grams_udf)


def fit_folds(
    frame,
    kind: str,
    reg_param: float,
    *,
    max_iter: int = 100,
    min_df: float = 2.0,
    vocab_size: int = 1 << 18,
) -> Iterator[tuple[int, LinearTextModel]]:
    """For each value ``f`` of ``frame``'s ``fold`` column (ascending): ``(f, model)``, ``model``'s
    logistic regression fitted on the rows of every other fold (``label`` double, the kind's column).

    The vocabulary and idf are fitted once, on every row's n-grams: they read no label, so no row's
    label reaches the model that scores it, and one featurization (the costly part) serves every
    fold instead of one per fold. Each fold's model keeps only the n-grams its training rows carry
    (:func:`_seen_in_training`), as a vocabulary fitted on those rows would. The generator holds a
    local checkpoint of the featurized rows until it is exhausted or closed."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.sql import functions as F

    column, grams_udf = KINDS[kind][0], _grams_udf(kind)
    rows = frame.select("label", "fold", grams_udf(F.col(column)).alias("grams")).cache()
    try:
        featurize = _featurizer(rows, min_df, vocab_size)
        folds = sorted(r["fold"] for r in rows.select("fold").distinct().collect())
        vocabulary, idf = list(featurize.stages[0].vocabulary), featurize.stages[1].idf.toArray()
        with _checkpointed(_featurized(rows, featurize).select("label", "fold", "features")) as x:
            for fold in folds:
                lr = LogisticRegression(
                    family="multinomial",
                    standardization=False,
                    regParam=float(reg_param),
                    elasticNetParam=0.0,
                    maxIter=max_iter,
                ).fit(x.where(F.col("fold") != fold))
                coef, intercept = lr.coefficientMatrix.toArray(), lr.interceptVector.toArray()
                seen = _seen_in_training(coef)
                model = LinearTextModel(
                    kind, [vocabulary[i] for i in seen], idf[seen], coef[:, seen], intercept, float(reg_param)
                )
                yield fold, model
    finally:
        rows.unpersist()


def _seen_in_training(coef: np.ndarray) -> np.ndarray:
    """The features (column numbers of ``coef``) that the regression's training rows carry. A feature
    none of them has gets no gradient from the loss or from the L2 penalty, so its coefficients stay
    exactly at their start, 0; every other one moves. Scoring with only these is scoring with the
    vocabulary of the training folds: an n-gram only held-out rows have would weigh nothing and yet
    shrink the row's L2-normalised weights, and with them the model's confidence (with them, the
    reference lakehouse of one clone queued 7 of its 12 flipped labels, under the test's bound of 8;
    without them, enough)."""
    return np.flatnonzero(np.any(coef != 0.0, axis=0))


def _grams_udf(kind: str) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    return F.udf(KINDS[kind][1], T.ArrayType(T.StringType()))


def _featurizer(rows: Any, min_df: float, vocab_size: int) -> Any:
    """The TF-IDF pipeline (binary counts -> idf -> L2 norm) fitted on ``rows``' ``grams``."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import IDF, CountVectorizer, Normalizer

    return Pipeline(
        stages=[
            CountVectorizer(inputCol="grams", outputCol="tf", binary=True, minDF=min_df, vocabSize=vocab_size),
            IDF(inputCol="tf", outputCol="tfidf"),
            Normalizer(inputCol="tfidf", outputCol="features", p=2.0),
        ]
    ).fit(rows)


@contextmanager
def _checkpointed(rows: Any) -> Iterator[Any]:
    """A local checkpoint of ``rows`` (computed now), freed on exit."""
    checkpoint = rows.localCheckpoint(eager=True)
    try:
        yield checkpoint
    finally:  # a local checkpoint's blocks belong to its RDD: DataFrame.unpersist does not free them
        checkpoint._jdf.queryExecution().logical().rdd().unpersist(False)


def _featurized(rows: Any, featurize: Any) -> Any:
    """``featurize.transform(rows)``, to the bit, with the idf weights broadcast once instead of
    shipped in every task inside IDFModel's UDF: term presence (1.0) times idf is the same double
    either way, then the same Normalizer."""
    from pyspark.ml.linalg import SparseVector, VectorUDT
    from pyspark.sql import functions as F

    counts, idf_model, normalizer = featurize.stages
    idf = rows.sparkSession.sparkContext.broadcast(idf_model.idf.toArray())

    @F.udf(VectorUDT())
    def times_idf(tf: SparseVector) -> SparseVector:
        return SparseVector(tf.size, tf.indices, tf.values * idf.value[tf.indices])

    return normalizer.transform(counts.transform(rows).withColumn("tfidf", times_idf("tf")))


def _best_reg_param(
    kind: str, featurize: Any, x_train: Any, reg_params: Sequence[float], max_iter: int, validation: tuple[list, list]
) -> tuple[LinearTextModel, float, Any]:
    """A logistic regression on ``x_train`` per regParam; the one whose numpy form is most accurate
    on ``validation`` (inputs, labels): (its numpy form, that accuracy, the Spark ML model)."""
    from pyspark.ml.classification import LogisticRegression

    vocabulary, idf = list(featurize.stages[0].vocabulary), featurize.stages[1].idf.toArray()
    best = None
    for reg in reg_params:
        lr = LogisticRegression(
            family="multinomial", standardization=False, regParam=float(reg), elasticNetParam=0.0, maxIter=max_iter
        ).fit(x_train)
        model = LinearTextModel(
            kind, vocabulary, idf, lr.coefficientMatrix.toArray(), lr.interceptVector.toArray(), float(reg)
        )
        accuracy = model.accuracy(*validation)
        if best is None or accuracy > best[1]:
            best = (model, accuracy, lr)
    return best


@dataclass
class Fitted:
    """What :func:`fit` chose: the numpy ``model``, its ``validation_accuracy``, and the Spark ML
    ``pipeline`` it was read from (``grams`` -> ``probability``; with ``grams_udf`` making the
    ``grams`` column from the kind's silver column), kept for checks against Spark."""

    model: LinearTextModel
    validation_accuracy: float
    pipeline: Any
    grams_udf: Any

    def summary(self) -> dict[str, Any]:
        return {
            "reg_param": self.model.reg_param,
            "validation_accuracy": round(self.validation_accuracy, 4),
            "features": len(self.model.vocabulary),
        }
