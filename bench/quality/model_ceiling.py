"""Benchmark (issue #6): how far strong linear text classifiers get on the bundled corpus, and
what a split that ignores duplicates would report. Context for the LSTM's test accuracy; not part
of the product (scikit-learn, one process).

1. Leak-free, the pipeline's own split: gold.features (split, label) joined to silver.reviews
   (cleaned text, jieba tokens); TF-IDF logistic regression on word uni+bigrams and on character
   1-4-grams, C chosen on the validation split, accuracy / macro-F1 on the test split.
2. Leaky, for comparison: the raw lines of ``data/landing/{pos,neg}.txt`` split at random by row
   (10% test, stratified), duplicates free to fall on both sides; the share of test rows whose
   exact text is also in train, accuracy on all test rows and on the unseen ones only.

Writes ``bench/results/<UTC date>-model_ceiling.json``. Not a test.

    python -m bench.quality.model_ceiling [--lakehouse ./lakehouse]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from bench.record import ROOT, Record, log

C_GRID = (0.3, 1.0, 3.0, 10.0)


def gold_frame(lakehouse: str):
    """review_id, split, label_id, text, tokens of the published gold and silver tables."""
    from reviewlake.core import delta_io, tables
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark

    cfg = load_config(overrides=[f"lakehouse={lakehouse}"])
    spark = get_spark(cfg)
    features = delta_io.read(spark, tables.uri(cfg, "gold", "features")).select("review_id", "split", "label_id")
    silver = delta_io.read(spark, tables.uri(cfg, "silver", "reviews")).select("review_id", "text", "tokens")
    return features.join(silver, "review_id").toPandas()


def fit_scored(vectorizer, train_x, train_y, splits: dict) -> dict:
    """Logistic regression for each C of the grid; the best on validation, scored on test."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    xs = {"train": vectorizer.fit_transform(train_x)}
    xs.update({name: vectorizer.transform(x) for name, (x, _) in splits.items()})
    best = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000).fit(xs["train"], train_y)
        val = accuracy_score(splits["validation"][1], model.predict(xs["validation"]))
        if best is None or val > best[1]:
            best = (c, val, model)
    c, val, model = best
    pred = model.predict(xs["test"])
    y = splits["test"][1]
    return {
        "C": c,
        "validation_accuracy": round(val, 4),
        "test_accuracy": round(accuracy_score(y, pred), 4),
        "test_macro_f1": round(f1_score(y, pred, average="macro"), 4),
    }


def leak_free(df) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer

    part = {s: df[df["split"] == s] for s in ("train", "validation", "test")}
    words = lambda t: list(t) + [f"{a} {b}" for a, b in itertools.pairwise(t)]  # noqa: E731
    out = {"rows": {s: len(p) for s, p in part.items()}}
    out["word_1_2gram_logreg"] = fit_scored(
        TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=2),
        part["train"]["tokens"],
        part["train"]["label_id"],
        {s: (part[s]["tokens"], part[s]["label_id"]) for s in ("validation", "test")},
    )
    out["char_1_4gram_logreg"] = fit_scored(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
        part["train"]["text"],
        part["train"]["label_id"],
        {s: (part[s]["text"], part[s]["label_id"]) for s in ("validation", "test")},
    )
    return out


def leaky(landing: Path, seed: int) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    texts, labels = [], []
    for name, label in (("pos.txt", 1), ("neg.txt", 0)):
        for line in (landing / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    x_tr, x_te, y_tr, y_te = train_test_split(texts, labels, test_size=0.1, random_state=seed, stratify=labels)
    seen = set(x_tr)
    unseen = np.array([t not in seen for t in x_te])
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2)
    pred = LogisticRegression(C=10.0, max_iter=3000).fit(vec.fit_transform(x_tr), y_tr).predict(vec.transform(x_te))
    y_te = np.array(y_te)
    return {
        "rows": len(texts),
        "distinct_texts": len(set(texts)),
        "test_rows": len(x_te),
        "test_rows_with_text_in_train": round(float(1 - unseen.mean()), 4),
        "char_1_4gram_logreg_test_accuracy": round(accuracy_score(y_te, pred), 4),
        "same_on_unseen_test_rows": round(accuracy_score(y_te[unseen], pred[unseen]), 4),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", default=str(ROOT / "lakehouse"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("model_ceiling")
    log("leak-free: the pipeline's split")
    result = {
        "issue": 6,
        "lakehouse": args.lakehouse,
        "leak_free_pipeline_split": leak_free(gold_frame(args.lakehouse)),
    }
    log("leaky: random row split of the raw corpus")
    result["leaky_random_row_split"] = leaky(ROOT / "data" / "landing", args.seed)
    print(json.dumps(result, indent=2))
    rec.write(result, args.out)


if __name__ == "__main__":
    main()
