"""Stage 7 on tiny synthetic gold tables: real Spark + Delta, real TensorFlow. Train with real
Horovod (2 Gloo processes on local[2], system tier) -> metrics/export -> batch scoring (twice);
the checkpoint/resume logic in plain Keras; tokens -> ids."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest

from reviewlake.errors import NotEnoughSlotsError
from reviewlake.text.serving import OOV_ID, load_vocab, parse_vocab, tokens_to_ids, vocab_lines
from reviewlake.train.champion import Scorer, mix
from reviewlake.train.data import SplitInputs
from reviewlake.train.linear import LinearTextModel
from reviewlake.train.params import TrainParams
from tests.integration.helpers import rows_by_spark_and

MAX_LEN = 20
VOCAB_SIZE = 50  # ids 0..49: 0 pad, 1 oov, 2..49 tokens
CLASSES = ["negative", "neutral", "positive"]  # neutral never occurs, like the real corpus
POS_TOKEN, NEG_TOKEN = 5, 6
N_ROWS = 200


def _token(token_id: int) -> str:
    return f"词{token_id}"


def _synthetic_rows(seed: int = 11) -> list[dict]:
    """Learnable rows: positive reviews carry token 5 (three times), negative ones token 6; the rest
    is noise from ids 7..49 plus an occasional OOV word. 55% positive."""
    rng = random.Random(seed)
    rows = []
    for i in range(N_ROWS):
        positive = rng.random() < 0.55
        n = rng.randint(6, 26)  # some longer than MAX_LEN: truncation
        tokens = [_token(rng.randint(7, VOCAB_SIZE - 1)) for _ in range(n)]
        for pos in rng.sample(range(min(n, MAX_LEN)), 3):
            tokens[pos] = _token(POS_TOKEN if positive else NEG_TOKEN)
        if rng.random() < 0.3:
            tokens[rng.randrange(min(n, MAX_LEN))] = "没见过的词"  # out of vocabulary
        split = "train" if i % 10 < 7 else ("validation" if i % 10 < 8 else "test")
        rows.append(
            {
                "review_id": f"r{i:04d}",
                "split": split,
                "label": "positive" if positive else "negative",
                "tokens": tokens,
            }
        )
    return rows


def _of_split(rows: list[dict], split: str) -> list[dict]:
    return [r for r in rows if r["split"] == split]


def _write_gold_and_silver(spark, cfg, rows) -> dict[str, int]:
    from pyspark.sql import types as T

    from reviewlake.core import delta_io, tables
    from reviewlake.features.tfidf import OPEN_VECTOR

    vocab = {_token(i): i for i in range(2, VOCAB_SIZE)}
    label_id = {name: i for i, name in enumerate(CLASSES)}
    feature_rows = []
    for r in rows:
        ids = tokens_to_ids(r["tokens"], vocab, MAX_LEN)
        counts: dict[int, float] = {}
        for t in ids:
            if t >= 2:
                counts[t] = counts.get(t, 0.0) + 1.0
        feature_rows.append(
            (
                r["review_id"],
                r["split"],
                label_id[r["label"]],
                ids,
                (VOCAB_SIZE, sorted(counts), [counts[i] for i in sorted(counts)]),
                "v-test",
            )
        )
    features_schema = T.StructType(
        [
            T.StructField("review_id", T.StringType()),
            T.StructField("split", T.StringType()),
            T.StructField("label_id", T.IntegerType()),
            T.StructField("token_ids", T.ArrayType(T.IntegerType())),
            T.StructField("tfidf", OPEN_VECTOR),
            T.StructField("vocab_version", T.StringType()),
        ]
    )
    delta_io.overwrite(spark.createDataFrame(feature_rows, features_schema), tables.uri(cfg, "gold", "features"))
    delta_io.overwrite(
        spark.createDataFrame(
            [(t, i, 3, "v-test") for t, i in vocab.items()],
            "token string, token_id int, doc_freq long, vocab_version string",
        ),
        tables.uri(cfg, "gold", "vocab"),
    )
    delta_io.overwrite(
        spark.createDataFrame(list(label_id.items()), "label string, label_id int"), tables.uri(cfg, "gold", "labels")
    )
    delta_io.overwrite(
        spark.createDataFrame(
            [(r["review_id"], "".join(r["tokens"]), r["tokens"], r["label"]) for r in rows]
            + [("r-empty", "", None, None)],  # a row without tokens still scores
            "review_id string, text string, tokens array<string>, label string",
        ),
        tables.uri(cfg, "silver", "reviews"),
    )
    return vocab


# --------------------------------------------------------------------------- pure: tokens -> ids
def test_tokens_to_ids_pads_truncates_and_marks_oov():
    vocab = {"好": 2, "差": 3}
    assert tokens_to_ids(["好", "新词", "差"], vocab, 5) == [2, OOV_ID, 3, 0, 0]
    assert tokens_to_ids(["好"] * 7, vocab, 4) == [2, 2, 2, 2]
    assert tokens_to_ids(None, vocab, 3) == [0, 0, 0]
    assert tokens_to_ids(np.array(["差"], dtype=object), vocab, 2) == [3, 0]


def test_vocab_file_lines_round_trip(tmp_path):
    lines = vocab_lines([("好", 2), ("差", 4)])
    assert lines == ["<pad>", "<oov>", "好", "", "差"]
    assert parse_vocab(lines) == {"好": 2, "差": 4}
    (tmp_path / "vocab.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_vocab(tmp_path / "vocab.txt") == {"好": 2, "差": 4}
    with pytest.raises(ValueError):
        vocab_lines([("坏", 1)])


def test_not_enough_task_slots_fails_fast(spark):
    from reviewlake.train.horovod_spark import check_slots

    with pytest.raises(NotEnoughSlotsError, match="num_proc=3"):
        check_slots(spark, 3)


# --------------------------------------------------------------------------- train.label_issues
@pytest.fixture(scope="module")
def synthetic_lake(spark, tmp_path_factory):
    """The synthetic gold and silver tables (no gold/label_issues), once for this module's tests."""
    from tests.conftest import Lake

    lake = Lake.at(tmp_path_factory.mktemp("synthetic"), f"features.max_len={MAX_LEN}")
    _write_gold_and_silver(spark, lake.cfg, _synthetic_rows())
    return lake


def _write_queue(spark, cfg, review_ids, built_from: int | None) -> int:
    """gold/label_issues holding ``review_ids``, recorded as built from gold/features ``built_from``;
    its version."""
    from reviewlake.core import delta_io, tables
    from reviewlake.train import label_issues as li

    rows = [(i, "positive", "negative", 0.1, k + 1, "run-t", built_from, None) for k, i in enumerate(review_ids)]
    uri = tables.uri(cfg, "gold", "label_issues")
    meta = delta_io.commit_metadata(features_version=built_from, settings={}, run_id="run-t")
    delta_io.overwrite(spark.createDataFrame(rows, li.SCHEMA), uri, user_metadata=meta)
    return delta_io.version(spark, uri)


def _ids_by_split(frame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in frame.select("split", "review_id").collect():
        out.setdefault(r["split"], []).append(r["review_id"])
    return {split: sorted(ids) for split, ids in out.items()}


def test_drop_leaves_the_queued_rows_out_of_train_and_validation_and_test_as_sampled(spark, synthetic_lake):
    """Driver arrays and the linear models' frame lose exactly the queued train and validation
    rows; the test split is the keep run's to the byte; the counts and the queue's version are
    recorded."""
    from dataclasses import replace

    from reviewlake.core import delta_io, tables
    from reviewlake.train.data import LabelIssuesUse
    from reviewlake.train.gold import read_gold
    from reviewlake.train.label_drop import DROPPED

    cfg = synthetic_lake.cfg
    keep, _ = read_gold(spark, cfg, with_text=False)
    queued = {s: set(keep.splits[s].review_ids[1:8:2]) for s in ("train", "validation", "test")}  # 4 a split
    built_from, _ = delta_io.last_data_commit(spark, tables.uri(cfg, "gold", "features"))
    version = _write_queue(spark, cfg, sorted(set().union(*queued.values())), built_from)
    drop, frame = read_gold(spark, replace(cfg, train=replace(cfg.train, label_issues="drop")), with_text=True)
    try:
        in_frame = _ids_by_split(frame)
    finally:
        frame.unpersist()
    text_of = {r["review_id"]: "".join(r["tokens"]) for r in _synthetic_rows()}
    for split in ("train", "validation", "test"):
        kept = ~np.isin(keep.splits[split].review_ids, list(queued[split] if split != "test" else ()))
        for name in ("review_ids", "labels", "token_ids"):
            assert np.array_equal(getattr(drop.splits[split], name), getattr(keep.splits[split], name)[kept])
        assert drop.text[split].text == [text_of[i] for i in drop.splits[split].review_ids]
        assert in_frame[split] == sorted(drop.splits[split].review_ids)
    assert in_frame[DROPPED] == sorted(queued["train"] | queued["validation"])
    assert drop.label_issues == LabelIssuesUse("drop", {"train": 4, "validation": 4, "test": 0}, version, built_from)
    assert keep.label_issues == LabelIssuesUse("keep", {"train": 0, "validation": 0, "test": 0})
    assert drop.table_versions["label_issues"] == version and "label_issues" not in keep.table_versions


def test_drop_without_a_queue_of_the_features_trained_on_stops_with_one_line(spark, synthetic_lake, capsys):
    """No gold/label_issues, or one built from another gold/features version: exit 2, one line
    that names `make label-issues`; nothing trained."""
    import shutil

    from reviewlake.core import delta_io, tables
    from reviewlake.core.uris import local_path
    from reviewlake.jobs import train_model

    cfg, args = synthetic_lake.cfg, [*synthetic_lake.args, "--conf", "train.label_issues=drop"]
    shutil.rmtree(local_path(tables.uri(cfg, "gold", "label_issues")), ignore_errors=True)
    assert train_model.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("train_model: error: gold.label_issues not found at ") and "`make label-issues`" in err
    current, _ = delta_io.last_data_commit(spark, tables.uri(cfg, "gold", "features"))
    _write_queue(spark, cfg, ["r0001"], current + 1)
    assert train_model.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"built from gold.features version {current + 1}, training reads version {current}" in err
    assert "`make label-issues`" in err
    assert not (synthetic_lake.root / "models" / "LATEST").exists()


def test_metrics_json_records_what_training_did_with_the_queue():
    from reviewlake.train.data import LabelIssuesUse
    from reviewlake.train.metrics import ChampionChoice, Classification, Metrics

    test = Classification.of([0, 1], [0, 1], ["negative", "positive"])
    choice = ChampionChoice("lstm", {"lstm": 1.0}, "majority", 1.0, {}, {})
    use = LabelIssuesUse("drop", {"train": 7, "validation": 1, "test": 0}, 3, 2)
    out = json.loads(json.dumps(Metrics("v1", test, choice, test, {}, {}, 1, 1, use).to_json()))
    assert out["label_issues"] == {
        "mode": "drop",
        "dropped": {"train": 7, "validation": 1, "test": 0},
        "table_version": 3,
        "features_version": 2,
    }


# --------------------------------------------------------------------------- train + export + score
@pytest.mark.system  # Horovod on Spark starts 2 training processes
def test_train_export_and_score(spark, make_cfg, tmp_path):
    import tensorflow as tf

    from reviewlake.core import delta_io, tables
    from reviewlake.core.job import RunContext
    from reviewlake.jobs import score_reviews, train_model

    cfg = make_cfg(
        "train.num_proc=2",
        "train.epochs=2",
        "train.batch_size=8",
        "train.learning_rate=0.01",
        f"features.max_len={MAX_LEN}",
        "train.logreg_max_iter=30",
        "train.label_issues=drop",
    )
    rows = _synthetic_rows()
    vocab = _write_gold_and_silver(spark, cfg, rows)
    # a queue of 3 train, 2 validation and 2 test rows: the train and validation ones are dropped
    queued = [r["review_id"] for s, k in (("train", 3), ("validation", 2), ("test", 2)) for r in _of_split(rows, s)[:k]]
    built_from, _ = delta_io.last_data_commit(spark, tables.uri(cfg, "gold", "features"))
    queue_version = _write_queue(spark, cfg, queued, built_from)

    with RunContext("train_model", cfg) as ctx:
        out = train_model.run(ctx)

    # ---- metrics.json
    model_dir = out["model_dir"]
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "baselines"):
        assert key in metrics, key
    assert set(metrics["per_class"]) == set(CLASSES)
    assert metrics["confusion_matrix"]["labels"] == CLASSES
    n_test = sum(r["split"] == "test" for r in rows)
    assert np.sum(metrics["confusion_matrix"]["matrix"]) == n_test
    majority = metrics["baselines"]["majority"]
    assert majority["predicted_class"] == "positive"
    assert metrics["accuracy"] > majority["accuracy"], (metrics["accuracy"], majority["accuracy"])
    word = metrics["baselines"]["word_1_2gram"]
    assert word["accuracy"] > majority["accuracy"]
    assert word["reg_param"] in cfg.train.logreg_reg_params and 0 < word["validation_accuracy"] <= 1
    assert metrics["champion"] in metrics["candidates"] and metrics["lstm"]["n"] == n_test
    assert metrics["epochs_run"] == 2 and len(metrics["history"]["val_loss"]) == 2
    assert metrics["label_issues"] == {
        "mode": "drop",
        "dropped": {"train": 3, "validation": 2, "test": 0},
        "table_version": queue_version,
        "features_version": built_from,
    }

    # ---- the version folder and LATEST
    version = out["version"]
    assert model_dir.name == version
    assert (model_dir.parent / "LATEST").read_text(encoding="utf-8").strip() == version
    for name in (
        "vocab.txt",
        "labels.json",
        "params.json",
        "training_curves.png",
        "confusion_matrix.png",
        "README.md",
        "preprocessing.json",
    ):
        assert (model_dir / name).is_file(), name
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert f"{100 * metrics['accuracy']:.1f}%" in card and "word_1_2gram" in card
    assert f"regParam {word['reg_param']:g}, chosen on validation" in card
    assert not any((tmp_path / "models" / "_checkpoints").glob("*")), "checkpoints outlive the export"
    lines = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert lines[:2] == ["<pad>", "<oov>"] and len(lines) == VOCAB_SIZE
    assert lines[POS_TOKEN] == _token(POS_TOKEN)
    assert load_vocab(model_dir / "vocab.txt") == vocab
    assert json.loads((model_dir / "labels.json").read_text(encoding="utf-8")) == CLASSES
    params = json.loads((model_dir / "params.json").read_text(encoding="utf-8"))
    assert params["max_len"] == MAX_LEN and params["vocab_size"] == VOCAB_SIZE and params["num_proc"] == 2
    assert params["label_issues"] == metrics["label_issues"]
    assert params["table_versions"]["label_issues"] == queue_version
    assert params["rows"] == {s: len(_of_split(rows, s)) - n for s, n in (("train", 3), ("validation", 2), ("test", 0))}
    assert "3 train and 2 validation rows of gold/label_issues version" in card

    # ---- the SavedModel (wide_lstm: token ids and the char model's features) loads, as Keras and
    # through its serving signature
    assert params["train"]["architecture"] == "wide_lstm"
    char_spec = params["char_inputs"]
    assert char_spec["features"] == "linear/char_1_4gram.npz" and char_spec["shape"] == [None, 600]
    char_model = LinearTextModel.load(model_dir / char_spec["features"])
    keras_model = tf.keras.models.load_model(str(model_dir / "saved_model"))

    def lstm_inputs(some_rows, texts=None):
        texts = texts or ["".join(r["tokens"]) for r in some_rows]
        ids = np.array([tokens_to_ids(r["tokens"], vocab, MAX_LEN) for r in some_rows], dtype=np.int32)
        return [ids, *char_model.sparse_inputs(texts, 600)]

    test_rows = [r for r in rows if r["split"] == "test"]
    x_test = lstm_inputs(test_rows)
    keras_probs = keras_model.predict(x_test, verbose=0)
    assert keras_probs.shape == (n_test, len(CLASSES))
    signature = tf.saved_model.load(str(model_dir / "saved_model")).signatures["serving_default"]
    sig_probs = signature(
        token_ids=tf.constant(x_test[0]), char_ids=tf.constant(x_test[1]), char_weights=tf.constant(x_test[2])
    )["probabilities"].numpy()
    assert np.allclose(sig_probs, keras_probs, atol=1e-5)

    # ---- batch scoring: the champion's probabilities, as its scorer gives them, and on the test rows
    # as training measured them
    with RunContext("score_reviews", cfg) as ctx:
        scored = score_reviews.run(ctx)
    assert scored["model_version"] == version
    pred_uri = tables.uri(cfg, "gold", "predictions")
    preds = delta_io.read(spark, pred_uri)
    assert preds.columns == ["review_id", "model_version", "probabilities", "predicted_label", "scored_at"]
    assert preds.count() == N_ROWS + 1
    got = {r["review_id"]: r for r in preds.collect()}
    scorer = Scorer.from_model_dir(model_dir)
    texts, tokens = ["".join(r["tokens"]) for r in rows] + [""], [r["tokens"] for r in rows] + [None]
    expected = scorer.predict(texts, tokens)
    ids = [r["review_id"] for r in rows] + ["r-empty"]
    saved = np.load(model_dir / "test_probabilities.npz")
    at = {i: k for k, i in enumerate(ids)}
    assert np.abs(expected[[at[i] for i in saved["review_id"]]] - saved["probabilities"]).max() < 1e-5
    assert scorer.champion_model == model_dir / "champion_model"  # the scorer runs the champion SavedModel
    assert np.allclose(mix(scorer.member_probabilities(texts, tokens), scorer.members), expected, atol=1e-5)
    lstm_probs = scorer.member_probabilities(["".join(r["tokens"]) for r in rows], [r["tokens"] for r in rows])["lstm"]
    assert np.allclose(keras_model.predict(lstm_inputs(rows), verbose=0), lstm_probs, atol=1e-5)
    actual = np.array([got[i]["probabilities"] for i in ids], dtype=np.float32)
    assert np.allclose(actual, expected, atol=1e-5)
    assert [got[i]["predicted_label"] for i in ids] == [CLASSES[k] for k in expected.argmax(axis=1)]
    assert {got[i]["model_version"] for i in ids} == {version}

    # ---- rerun through the entry script: same keys, no duplicates, rows refreshed
    rc = score_reviews.main(
        [
            "--lakehouse",
            str(tmp_path / "lakehouse"),
            "--model-version",
            version,
            "--conf",
            f"models_dir={tmp_path / 'models'}",
            "--conf",
            f"reports_dir={tmp_path / 'reports'}",
        ]
    )
    assert rc == 0
    again = delta_io.read(spark, pred_uri)
    assert again.count() == N_ROWS + 1
    assert again.select("review_id", "model_version").distinct().count() == N_ROWS + 1
    again_probs = {r["review_id"]: r["probabilities"] for r in again.collect()}
    assert np.allclose(np.array([again_probs[i] for i in ids], dtype=np.float32), expected, atol=1e-5)
    # after an upserting rerun, readers without Spark (delta-rs) still read it, the same rows
    by_spark, by_rs = rows_by_spark_and(spark, pred_uri)
    assert by_rs == by_spark and len(by_rs) == N_ROWS + 1

    # ---- run reports
    assert (tmp_path / "reports" / "runs" / "train_model" / "latest.json").is_file()
    report = json.loads((tmp_path / "reports" / "runs" / "score_reviews" / "latest.json").read_text())
    assert [s["name"] for s in report["stages"]] == ["resolve_model", "score", "merge"]


def training_arrays(rows=None) -> dict[str, SplitInputs]:
    """The synthetic train and validation rows as named arrays, as the training job feeds them."""
    rows = rows or _synthetic_rows()
    vocab = {_token(i): i for i in range(2, VOCAB_SIZE)}
    arrays = {}
    for split in ("train", "validation"):
        part = [r for r in rows if r["split"] == split]
        arrays[split] = SplitInputs(
            review_ids=np.array([r["review_id"] for r in part]),
            labels=np.array([0 if r["label"] == "negative" else 2 for r in part], dtype=np.int32),
            token_ids=np.array([tokens_to_ids(r["tokens"], vocab, MAX_LEN) for r in part], dtype=np.int32),
        )
    return arrays


def train_params(**values) -> TrainParams:
    """The configured training parameters with ``values`` instead."""
    from reviewlake.core.config import load_config

    return replace(TrainParams.of(load_config().train), **values)


RESUME_PARAMS = {
    "architecture": "lstm",
    "epochs": 2,
    "batch_size": 8,
    "learning_rate": 0.01,
    "warmup_epochs": 0,
    "clip_norm": 1.0,
    "embedding_dim": 16,
    "lstm_units": 8,
    "dropout": 0.0,
    "seed": 3,
    "patience": 5,
    "class_weight": "balanced",
}


def test_wide_lstm_starts_as_its_linear_model_and_serves_through_its_signature(tmp_path):
    """Before training, wide_lstm gives the char model's probabilities (its deep head starts at
    zero, its wide part at the model's coefficients); the SavedModel's signature, fed the same
    three inputs as the scorer feeds it, gives what Keras gives."""
    import tensorflow as tf

    from reviewlake.train.champion import load_predictor
    from reviewlake.train.export import save_keras_model
    from reviewlake.train.model import WideStart, build_model, model_inputs

    rng = np.random.default_rng(5)
    vocabulary = ["好", "差", "好用", "不", "用"]
    char_model = LinearTextModel(
        "char_1_4gram",
        vocabulary,
        idf=rng.uniform(0.2, 2.0, 5),
        coef=rng.normal(size=(3, 5)),
        intercept=rng.normal(size=3),
        reg_param=1e-4,
    )
    texts = ["好用", "不好用", "差", "", "用不好差"]
    ids = np.array(
        [tokens_to_ids(list(t), {c: i + 2 for i, c in enumerate("好差用不")}, MAX_LEN) for t in texts], dtype=np.int32
    )
    char_ids, char_weights = char_model.sparse_inputs(texts, 8)
    tf.keras.utils.set_random_seed(1)
    model = build_model(
        VOCAB_SIZE,
        MAX_LEN,
        3,
        train_params(architecture="wide_lstm", embedding_dim=8, lstm_units=4),
        WideStart(char_model.coef, char_model.intercept, 8),
    )
    arrays = {"token_ids": ids, "char_ids": char_ids, "char_weights": char_weights}
    probs = model.predict(model_inputs(arrays, "wide_lstm"), verbose=0)
    assert np.allclose(probs, char_model.probabilities(texts), atol=1e-6)
    save_keras_model(model, tmp_path / "saved_model", MAX_LEN, 8)
    served = load_predictor(str(tmp_path / "saved_model"))(ids, char_ids=char_ids, char_weights=char_weights)
    assert np.allclose(served, probs, atol=1e-6)
    with pytest.raises(ValueError, match="needs the start of its linear part"):
        build_model(VOCAB_SIZE, MAX_LEN, 3, train_params(architecture="wide_lstm"))


def test_checkpoint_and_resume_with_plain_keras(tmp_path):
    """The checkpoint logic of every Horovod rank (epoch state callback, load_resume), in one plain
    Keras process: a run failing after epoch 1 leaves a checkpoint; the rerun starts at epoch 2 from
    its weights. The same through Horovod on Spark: tests/system/test_horovod_resume.py."""
    import tensorflow as tf

    from reviewlake.train import checkpoint, horovod_spark
    from reviewlake.train.model import build_model

    data, ckpt = training_arrays(), str(tmp_path / "ckpt")
    params = train_params(**RESUME_PARAMS)

    def run(fail_after_epoch):
        tf.keras.utils.set_random_seed(3)
        model = build_model(VOCAB_SIZE, MAX_LEN, len(CLASSES), params)
        resume = checkpoint.load_resume(model, ckpt)
        model.compile(optimizer=tf.keras.optimizers.legacy.Adam(0.01), loss="sparse_categorical_crossentropy")
        tracker = horovod_spark._epoch_state_callback(tf, model, 0, 5, ckpt, resume, fail_after_epoch)
        model.fit(
            data["train"].token_ids,
            data["train"].labels,
            batch_size=8,
            epochs=2,
            initial_epoch=resume.state.epoch if resume else 0,
            validation_data=(data["validation"].token_ids, data["validation"].labels),
            callbacks=[tracker],
            verbose=0,
        )
        return model, tracker, resume

    with pytest.raises(RuntimeError, match="fault injected after epoch 1"):
        run(fail_after_epoch=1)
    state = checkpoint.read_checkpoint_state(ckpt)
    assert state.epoch == 1 and len(state.history["loss"]) == 1 and state.best_epoch == 1
    saved = build_model(VOCAB_SIZE, MAX_LEN, len(CLASSES), params)
    saved.load_weights(f"{ckpt}/{checkpoint.LAST_WEIGHTS}")

    model, tracker, resume = run(fail_after_epoch=None)
    assert resume.state.epoch == 1
    assert all(np.array_equal(a, b) for a, b in zip(resume.weights, saved.get_weights(), strict=True))
    assert tracker.history["loss"][0] == state.history["loss"][0]  # epoch 1 is not redone
    assert len(tracker.history["loss"]) == 2
    assert checkpoint.read_checkpoint_state(ckpt).epoch == 2
    assert checkpoint.load_resume(model, str(tmp_path / "empty")) is None
