"""TF-IDF (Spark ML) over the gold vocabulary, IDF fitted on the train split only.

The weights are stored as a plain struct, ``size`` (int), ``indices`` (array<int>, ascending) and
``values`` (array<double>), not as Spark ML's vector type: Delta records that type as ``udt``,
which is not a Delta type, and readers without Spark (delta-rs: pandas, Polars, DuckDB) refuse the
whole table. :func:`to_ml_vector` turns the struct back into a Spark ML vector for Spark ML.
"""

from __future__ import annotations

from pyspark.ml.feature import IDF, CountVectorizerModel
from pyspark.ml.linalg import SparseVector, VectorUDT
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

OPEN_VECTOR = T.StructType(
    [
        T.StructField("size", T.IntegerType(), False),
        T.StructField("indices", T.ArrayType(T.IntegerType(), False), False),
        T.StructField("values", T.ArrayType(T.DoubleType(), False), False),
    ]
)


# Python UDFs: Spark has no built-in conversion between its ML vector type and a plain struct
# (the vector's own storage struct cannot be selected or cast to). One small vector per review.
@F.udf(returnType=OPEN_VECTOR)
def _open(v):
    if v is None:
        return None
    sparse = v if isinstance(v, SparseVector) else v.toSparse()
    return (int(sparse.size), [int(i) for i in sparse.indices], [float(x) for x in sparse.values])


@F.udf(returnType=VectorUDT())
def _ml(s):
    return None if s is None else SparseVector(s["size"], s["indices"], s["values"])


def open_vector(col: Column) -> Column:
    """A Spark ML vector column as an :data:`OPEN_VECTOR` struct (its non-zero entries)."""
    return _open(col)


def to_ml_vector(col: Column) -> Column:
    """An :data:`OPEN_VECTOR` struct column as a Spark ML sparse vector."""
    return _ml(col)


def add_tfidf(
    df: DataFrame, train: DataFrame, vocab_tokens: list[str], tokens_col: str = "tokens", out_col: str = "tfidf"
) -> DataFrame:
    """``df`` with ``out_col``, an :data:`OPEN_VECTOR` (index i = ``vocab_tokens[i]``)."""
    counter = CountVectorizerModel.from_vocabulary(vocab_tokens, inputCol=tokens_col, outputCol="_tf")
    idf = IDF(inputCol="_tf", outputCol="_tfidf").fit(counter.transform(train))
    return idf.transform(counter.transform(df)).withColumn(out_col, open_vector(F.col("_tfidf"))).drop("_tf", "_tfidf")
