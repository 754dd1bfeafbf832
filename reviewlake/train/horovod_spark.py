"""Data-parallel training of :func:`reviewlake.train.model.build_model` with ``horovod.spark.run`` (Gloo).

``horovod.spark.run`` starts one Spark task per Horovod process; each task launches a Python
process that runs :func:`_train_fn` with the arguments pickled on the driver. Inside it:
``hvd.init()``, the GPU of the Spark task (``spark.task.resource.gpu.amount``, see
reviewlake/core/spark.py) or the CPU, one shard of the training rows per rank, Adam with the
learning rate scaled by ``hvd.size()`` behind ``hvd.DistributedOptimizer``, a learning-rate warmup,
gradient clipping, broadcast of rank 0's initial weights, metric averaging across ranks, and early
stopping on the validation loss, class weights. Rank 0 returns the weights and the history to the
driver, which rebuilds the model.

Checkpoints (``checkpoint_dir``): after every epoch rank 0 writes the last and the best weights
and the epoch state (history, early-stopping counters) there; a later run given the same folder
resumes after the last completed epoch (Adam's moments restart; everything else continues).
Only rank 0 reads and writes it, through ``tf.io.gfile``: on a cluster it must be a folder rank 0
reaches from any executor (a shared mount, or a URI scheme TensorFlow's file system supports).

Data path: the driver collects the train/validation arrays and passes them to every rank
(``args=``), which is right for corpora of this size (tens of thousands of rows x max_len ints:
a few MB; ``wide_lstm``'s char inputs add ``train.char_len`` ids and weights per row, about 75 MB
for the bundled corpus at 600, and its start, the char model's coefficients, a few MB more). A
corpus that does not fit the driver should instead have each rank read its own shard of
gold.features (e.g. Parquet files of the Delta snapshot, or Petastorm) by ``hvd.rank()``.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reviewlake.errors import NotEnoughSlotsError
from reviewlake.train.model import WideStart

log = logging.getLogger("reviewlake.train.horovod_spark")

# Each Horovod process gets one Spark task slot, i.e. (by default) one core: keep TF to it.
THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


STATE_FILE, LAST_WEIGHTS, BEST_WEIGHTS = "state.json", "last.weights.h5", "best.weights.h5"


def class_weights(y: np.ndarray, n_classes: int, mode: str | None) -> dict[int, float] | None:
    """``balanced``: n / (k * count(c)) per class present (as scikit-learn), 1.0 for a class with
    no training row (Keras wants every class id); None for ``none``."""
    if str(mode or "none") == "none":
        return None
    if mode != "balanced":
        raise ValueError(f"train.class_weight must be balanced or none, not {mode!r}")
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    present = int((counts > 0).sum())
    return {c: float(len(y) / (present * counts[c])) if counts[c] else 1.0 for c in range(n_classes)}


def _epoch_state_callback(
    tf,
    model,
    rank: int,
    patience: int,
    checkpoint_dir: str | None,
    state: Mapping[str, Any] | None,
    best_weights,
    fail_after_epoch: int | None,
):
    """Early stopping on ``val_loss`` (best weights kept) that rank 0 checkpoints after every
    epoch; starts from ``state``/``best_weights`` when resuming. Every rank runs it: the metrics
    are averaged across ranks before it, so all take the same stop decision."""
    import json

    class EpochState(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            st = dict(state or {})
            self.history = {k: list(v) for k, v in st.get("history", {}).items()}
            self.best = float(st.get("best_val_loss", math.inf))
            self.best_epoch = st.get("best_epoch")
            self.wait = int(st.get("wait", 0))
            self.best_weights = best_weights

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            for k, v in logs.items():
                self.history.setdefault(k, []).append(float(v))
            if "val_loss" in logs:
                if logs["val_loss"] < self.best:
                    self.best, self.best_epoch, self.wait = float(logs["val_loss"]), epoch + 1, 0
                    self.best_weights = model.get_weights()
                else:
                    self.wait += 1
                    if self.wait >= patience:
                        model.stop_training = True
            if rank == 0 and checkpoint_dir:
                tf.io.gfile.makedirs(checkpoint_dir)
                model.save_weights(f"{checkpoint_dir}/{LAST_WEIGHTS}")
                if self.best_epoch == epoch + 1:
                    model.save_weights(f"{checkpoint_dir}/{BEST_WEIGHTS}")
                tmp = f"{checkpoint_dir}/{STATE_FILE}.tmp"
                with tf.io.gfile.GFile(tmp, "w") as fh:
                    json.dump(
                        {
                            "epoch": epoch + 1,
                            "history": self.history,
                            "best_val_loss": self.best,
                            "best_epoch": self.best_epoch,
                            "wait": self.wait,
                            "stopped": bool(model.stop_training),
                        },
                        fh,
                    )
                tf.io.gfile.rename(tmp, f"{checkpoint_dir}/{STATE_FILE}", overwrite=True)
            if fail_after_epoch is not None and epoch + 1 >= fail_after_epoch:
                raise RuntimeError(f"fault injected after epoch {epoch + 1} (train.fail_after_epoch)")

    return EpochState()


def read_checkpoint_state(checkpoint_dir: str | None) -> dict[str, Any] | None:
    """The epoch state a previous run left in ``checkpoint_dir`` (None if none)."""
    import json

    import tensorflow as tf

    if not checkpoint_dir or not tf.io.gfile.exists(f"{checkpoint_dir}/{STATE_FILE}"):
        return None
    with tf.io.gfile.GFile(f"{checkpoint_dir}/{STATE_FILE}") as fh:
        return json.load(fh)


def load_resume(model, checkpoint_dir: str | None) -> dict[str, Any] | None:
    """What a run resumes from, read through ``model`` (same architecture): ``{"state": the epoch
    state, "weights": the last epoch's weights, "best": the best epoch's weights or None}``; None
    when ``checkpoint_dir`` holds no checkpoint. ``model`` is left with the last weights."""
    import tensorflow as tf

    state = read_checkpoint_state(checkpoint_dir)
    if state is None:
        return None
    best = None  # no best epoch yet (validation loss never finite)
    if state.get("best_epoch") and tf.io.gfile.exists(f"{checkpoint_dir}/{BEST_WEIGHTS}"):
        model.load_weights(f"{checkpoint_dir}/{BEST_WEIGHTS}")
        best = model.get_weights()
    model.load_weights(f"{checkpoint_dir}/{LAST_WEIGHTS}")
    return {"state": state, "weights": model.get_weights(), "best": best}


@dataclass
class TrainResult:
    model: Any  # tf.keras.Model on the driver, rank 0's final weights
    history: dict[str, list[float]]
    best_epoch: int | None  # 1-based epoch whose weights were kept (None: no validation)
    epochs_run: int
    world_size: int
    train_rows_per_rank: int
    devices: list[str] = field(default_factory=list)
    resumed_from_epoch: int = 0  # epochs a previous, interrupted run had completed
    samples_per_s: float = 0.0  # training rows per second over all ranks (this run's epochs, validation included)


def task_slots(spark) -> int:
    """How many tasks Spark can run at the same time right now (all executors, all slots)."""
    sc = spark.sparkContext
    try:
        jsc = sc._jsc.sc()
        profile = jsc.resourceProfileManager().defaultResourceProfile()
        return int(jsc.maxNumConcurrentTasks(profile))
    except Exception:  # noqa: BLE001 - private JVM API moved: fall back to the public estimate
        return int(sc.defaultParallelism)


def check_slots(spark, num_proc: int) -> int:
    """Fail fast (instead of hanging until Horovod's start timeout) when ``num_proc`` ranks cannot
    all be scheduled at once."""
    if num_proc < 1:
        raise ValueError(f"train.num_proc must be >= 1, got {num_proc}")
    slots = task_slots(spark)
    if slots < num_proc:
        raise NotEnoughSlotsError(
            f"train.num_proc={num_proc} Horovod processes need {num_proc} concurrent Spark task slots, "
            f"but this Spark application has {slots} (master {spark.sparkContext.master}); "
            f"lower train.num_proc or give Spark more cores/executors (e.g. --master local[{num_proc}])"
        )
    return slots


def _assigned_gpus() -> list[str]:
    """GPU addresses Spark assigned to the task that launched this rank.

    ``_train_fn`` runs in a process started by the Spark task, where ``TaskContext.get()`` is None;
    Horovod relays that task's ``TaskContext.resources()`` and exposes them here.
    """
    try:
        from horovod.spark.task import get_available_devices

        return [str(a) for a in get_available_devices()]
    except Exception:  # noqa: BLE001
        pass
    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        if ctx is not None and "gpu" in ctx.resources():
            return [str(a) for a in ctx.resources()["gpu"].addresses]
    except Exception:  # noqa: BLE001
        pass
    return []


def _train_fn(data: Mapping[str, np.ndarray], spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """One Horovod rank. Returns weights + history on rank 0, None elsewhere."""
    os.environ.update(THREAD_ENV)
    gpus = _assigned_gpus()
    if gpus:  # before TensorFlow initialises CUDA: this rank sees only its Spark-assigned GPU(s)
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)

    import horovod.tensorflow.keras as hvd
    import tensorflow as tf

    from reviewlake.train.model import build_model, model_inputs

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # context already initialised in this process
        pass
    physical = tf.config.list_physical_devices("GPU")
    if gpus and physical:
        for dev in physical:
            tf.config.experimental.set_memory_growth(dev, True)
        devices = [d.name for d in physical]
    else:
        if physical:
            tf.config.set_visible_devices([], "GPU")
        devices = ["CPU"]

    hvd.init()
    rank, size = hvd.rank(), hvd.size()
    p = dict(spec["params"])
    tf.keras.utils.set_random_seed(int(p["seed"]))
    checkpoint_dir = spec.get("checkpoint_dir")

    # Equal shards: every rank must run the same number of steps, or the allreduce deadlocks.
    arch = str(p.get("architecture") or "lstm")
    y_train = data["y_train"]
    per_rank = len(y_train) // size
    if per_rank == 0:
        raise ValueError(f"{len(y_train)} training rows cannot be split over {size} ranks")
    idx = np.arange(len(y_train))[rank::size][:per_rank]
    x, y = model_inputs(split_inputs(data, "train", idx), arch), y_train[idx]
    x_val = model_inputs(split_inputs(data, "val"), arch)
    batch_size = int(p["batch_size"])
    steps_per_epoch = math.ceil(per_rank / batch_size)

    model = build_model(int(spec["vocab_size"]), int(spec["max_len"]), int(spec["n_classes"]), p, spec.get("wide"))
    # resume: rank 0 reads the checkpoint and hands weights and state to every rank
    resume = load_resume(model, checkpoint_dir) if rank == 0 else None
    import horovod.tensorflow as hvd_tf

    resume = hvd_tf.broadcast_object(resume, root_rank=0)
    initial_epoch = 0
    if resume is not None:
        model.set_weights(resume["weights"])
        initial_epoch = int(resume["state"]["epoch"])
    lr = float(p["learning_rate"]) * size
    optimizer = hvd.DistributedOptimizer(
        tf.keras.optimizers.legacy.Adam(learning_rate=lr, clipnorm=float(p["clip_norm"]))
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])

    # Order matters: metrics are averaged across ranks before the epoch state (early stopping) reads
    # them, so every rank takes the same stop decision.
    callbacks: list = [
        hvd.callbacks.BroadcastGlobalVariablesCallback(0),
        hvd.callbacks.MetricAverageCallback(),
    ]
    warmup = float(p.get("warmup_epochs", 0) or 0)
    if warmup > 0:
        callbacks.append(
            hvd.callbacks.LearningRateWarmupCallback(
                initial_lr=lr,
                warmup_epochs=warmup,
                momentum_correction=False,
                steps_per_epoch=steps_per_epoch,
                verbose=0,
            )
        )
    has_val = len(data["y_val"]) > 0
    fail_after = p.get("fail_after_epoch")
    tracker = _epoch_state_callback(
        tf,
        model,
        rank,
        int(p.get("patience", 2)) if has_val else 10**9,
        checkpoint_dir,
        resume["state"] if resume else None,
        resume["best"] if resume else None,
        int(fail_after) if fail_after else None,
    )
    callbacks.append(tracker)
    finished = bool(resume and resume["state"].get("stopped"))
    started, epochs_before = time.perf_counter(), len(tracker.history.get("loss", []))
    if not finished and initial_epoch < int(p["epochs"]):
        model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=int(p["epochs"]),
            initial_epoch=initial_epoch,
            validation_data=(x_val, data["y_val"]) if has_val else None,
            shuffle=True,
            class_weight=spec.get("class_weight"),
            callbacks=callbacks,
            verbose=2 if rank == 0 else 0,
        )
    fit_seconds = time.perf_counter() - started
    trained = (len(tracker.history.get("loss", [])) - epochs_before) * per_rank * size
    best_epoch = None
    if has_val and tracker.best_weights is not None and tracker.best_epoch is not None:
        model.set_weights(tracker.best_weights)
        best_epoch = int(tracker.best_epoch)
    if rank != 0:
        return None
    return {
        "weights": model.get_weights(),
        "history": tracker.history,
        "resumed_from_epoch": initial_epoch,
        "samples_per_s": trained / fit_seconds if trained else 0.0,
        "best_epoch": best_epoch,
        "world_size": size,
        "train_rows_per_rank": per_rank,
        "devices": devices,
    }


def split_inputs(data: Mapping[str, np.ndarray], split: str, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The model inputs of one split of ``data`` (``train`` or ``val``) by input name
    (:data:`reviewlake.train.model.INPUT_NAMES`), the ``rows`` given or all."""
    keys = {"token_ids": f"x_{split}", "char_ids": f"char_ids_{split}", "char_weights": f"char_weights_{split}"}
    out = {name: data[key] for name, key in keys.items() if key in data}
    return {name: a[rows] for name, a in out.items()} if rows is not None else out


def train(
    spark,
    data: Mapping[str, np.ndarray],
    *,
    vocab_size: int,
    max_len: int,
    n_classes: int,
    params: Mapping[str, Any],
    num_proc: int,
    start_timeout: int | None = None,
    checkpoint_dir: str | None = None,
    wide: WideStart | None = None,
) -> TrainResult:
    """Train on ``data`` (``x_train``/``y_train``/``x_val``/``y_val`` numpy arrays, and for
    ``wide_lstm`` ``char_ids_train``/``char_weights_train``/``char_ids_val``/``char_weights_val``
    with ``wide``, the start of its linear part) with ``num_proc`` Horovod processes on Spark;
    returns the model rebuilt on the driver with rank 0's weights. With ``checkpoint_dir``,
    resumes from the checkpoint found there (see the module doc)."""
    import horovod.spark

    from reviewlake.train.model import WIDE, build_model

    check_slots(spark, num_proc)
    needed = ["x_train", "y_train", "x_val", "y_val"]
    if params.get("architecture") == WIDE:
        if wide is None:
            raise ValueError(f"{WIDE} needs the start of its linear part (wide=)")
        needed += ["char_ids_train", "char_weights_train", "char_ids_val", "char_weights_val"]
    for key in needed:
        if key not in data:
            raise ValueError(f"training data lacks {key}")
    arrays = {
        "x_train": np.ascontiguousarray(data["x_train"], dtype=np.int32),
        "y_train": np.ascontiguousarray(data["y_train"], dtype=np.int32),
        "x_val": np.ascontiguousarray(data["x_val"], dtype=np.int32).reshape(-1, max_len),
        "y_val": np.ascontiguousarray(data["y_val"], dtype=np.int32),
    }
    for key in needed[4:]:
        dtype = np.int32 if key.startswith("char_ids") else np.float32
        arrays[key] = np.ascontiguousarray(data[key], dtype=dtype).reshape(-1, wide.char_len)
    spec = {
        "vocab_size": int(vocab_size),
        "max_len": int(max_len),
        "n_classes": int(n_classes),
        "params": dict(params),
        "checkpoint_dir": checkpoint_dir,
        "wide": wide,
        "class_weight": class_weights(arrays["y_train"], int(n_classes), params.get("class_weight")),
    }
    env = dict(THREAD_ENV)
    log.info(
        "horovod.spark.run: %d processes, %d train / %d validation rows, %s",
        num_proc,
        len(arrays["x_train"]),
        len(arrays["x_val"]),
        params.get("architecture"),
    )
    results = horovod.spark.run(
        _train_fn,
        args=(arrays, spec),
        num_proc=num_proc,
        env=env,
        start_timeout=start_timeout,
        use_gloo=True,
        verbose=1,
    )
    out = results[0]
    if not out or "weights" not in out:
        raise RuntimeError("Horovod rank 0 returned no weights")
    model = build_model(int(vocab_size), int(max_len), int(n_classes), params, wide)
    model.set_weights(out["weights"])
    history = out["history"]
    return TrainResult(
        model=model,
        history=history,
        best_epoch=out["best_epoch"],
        epochs_run=len(history.get("loss", [])),
        world_size=int(out["world_size"]),
        train_rows_per_rank=int(out["train_rows_per_rank"]),
        devices=list(out["devices"]),
        resumed_from_epoch=int(out.get("resumed_from_epoch", 0)),
        samples_per_s=float(out.get("samples_per_s", 0.0)),
    )
