"""TF-IDF (Spark ML) over the gold vocabulary, IDF fitted on the train split only."""
from __future__ import annotations

from pyspark.ml.feature import IDF, CountVectorizerModel
from pyspark.sql import DataFrame


def add_tfidf(df: DataFrame, train: DataFrame, vocab_tokens: list[str], tokens_col: str = "tokens",
              out_col: str = "tfidf") -> DataFrame:
    """``df`` with ``out_col`` (sparse vector; index i = ``vocab_tokens[i]``)."""
    counter = CountVectorizerModel.from_vocabulary(vocab_tokens, inputCol=tokens_col, outputCol="_tf")
    idf = IDF(inputCol="_tf", outputCol=out_col).fit(counter.transform(train))
    return idf.transform(counter.transform(df)).drop("_tf")
