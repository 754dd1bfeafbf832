"""Data-parallel training of :func:`reviewlake.train.model.build_model` with ``horovod.spark.run`` (Gloo).

``horovod.spark.run`` starts one Spark task per Horovod process; each task launches a Python
process that runs :func:`_train_fn` with the arguments pickled on the driver. Inside it:
``hvd.init()``, the GPU of the Spark task (``spark.task.resource.gpu.amount``, see
reviewlake/core/spark.py) or the CPU, one shard of the training rows per rank, Adam with the
learning rate scaled by ``hvd.size()`` behind ``hvd.DistributedOptimizer``, a learning-rate warmup,
gradient clipping, broadcast of rank 0's initial weights, metric averaging across ranks, and early
stopping on the validation loss, class weights. Rank 0 returns the weights and the history to the
driver, which rebuilds the model.

Checkpoints (``checkpoint_dir``, reviewlake/train/checkpoint.py): after every epoch rank 0 writes
the last and the best weights and the epoch state there; a later run given the same folder resumes
after the last completed epoch (Adam's moments restart; everything else continues).

Data path: the driver collects the train and validation rows (named arrays,
:class:`reviewlake.train.data.SplitInputs`) and passes them to every rank (``args=``) with the
run's :class:`RankSpec`, which is right for corpora of this size (tens of thousands of rows x
max_len ints: a few MB; ``wide_lstm``'s char inputs add ``train.char_len`` ids and weights per row,
about 75 MB for the bundled corpus at 600, and its start, the char model's coefficients, a few MB
more). A corpus that does not fit the driver should instead have each rank read its own shard of
gold.features (e.g. Parquet files of the Delta snapshot, or Petastorm) by ``hvd.rank()``.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reviewlake.errors import NotEnoughSlotsError
from reviewlake.train import checkpoint
from reviewlake.train.checkpoint import EpochState, Resume
from reviewlake.train.data import SplitInputs
from reviewlake.train.model import WIDE, WideStart, build_model
from reviewlake.train.params import TrainParams

log = logging.getLogger("reviewlake.train.horovod_spark")

# Each Horovod process gets one Spark task slot, i.e. (by default) one core: keep TF to it.
THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def class_weights(y: np.ndarray, n_classes: int, mode: str) -> dict[int, float] | None:
    """``balanced``: n / (k * count(c)) per class present (as scikit-learn), 1.0 for a class with
    no training row (Keras wants every class id); None for ``none``."""
    if mode == "none":
        return None
    if mode != "balanced":
        raise ValueError(f"train.class_weight must be balanced or none, not {mode!r}")
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    present = int((counts > 0).sum())
    return {c: float(len(y) / (present * counts[c])) if counts[c] else 1.0 for c in range(n_classes)}


@dataclass(frozen=True)
class RankSpec:
    """What every rank gets beside the rows: the model's shape and start, the parameters, the class
    weights, where to checkpoint, and (tests only) the epoch after which to fail."""

    vocab_size: int
    max_len: int
    n_classes: int
    params: TrainParams
    class_weight: dict[int, float] | None
    checkpoint_dir: str | None = None
    wide: WideStart | None = None
    fail_after_epoch: int | None = None


@dataclass(frozen=True)
class RankResult:
    """What rank 0 hands back to the driver."""

    weights: list[Any]
    history: dict[str, list[float]]
    best_epoch: int | None
    resumed_from_epoch: int
    samples_per_s: float
    world_size: int
    train_rows_per_rank: int
    devices: list[str]


def _epoch_state_callback(
    tf,
    model,
    rank: int,
    patience: int,
    checkpoint_dir: str | None,
    resume: Resume | None,
    fail_after_epoch: int | None,
):
    """Early stopping on ``val_loss`` (best weights kept) that rank 0 checkpoints after every
    epoch; starts from ``resume``'s state and best weights when resuming. Every rank runs it: the
    metrics are averaged across ranks before it, so all take the same stop decision."""
    state = resume.state if resume else None

    class EpochStateCallback(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history = {k: list(v) for k, v in state.history.items()} if state else {}
            self.best = state.best_val_loss if state else math.inf
            self.best_epoch = state.best_epoch if state else None
            self.wait = state.wait if state else 0
            self.best_weights = resume.best if resume else None

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            for k, v in logs.items():
                self.history.setdefault(k, []).append(float(v))
            if "val_loss" in logs:
                self._stop_early(epoch + 1, float(logs["val_loss"]))
            if rank == 0 and checkpoint_dir:
                checkpoint.save(model, checkpoint_dir, self._state(epoch + 1), best=self.best_epoch == epoch + 1)
            if fail_after_epoch is not None and epoch + 1 >= fail_after_epoch:
                raise RuntimeError(f"fault injected after epoch {epoch + 1} (fail_after_epoch, tests only)")

        def _stop_early(self, epoch: int, val_loss: float) -> None:
            if val_loss < self.best:
                self.best, self.best_epoch, self.wait = val_loss, epoch, 0
                self.best_weights = model.get_weights()
            else:
                self.wait += 1
                if self.wait >= patience:
                    model.stop_training = True

        def _state(self, epoch: int) -> EpochState:
            return EpochState(epoch, self.history, self.best, self.best_epoch, self.wait, bool(model.stop_training))

    return EpochStateCallback()


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


def _claim_gpus() -> list[str]:
    """One core's threads for this rank, and before TensorFlow initialises CUDA only its
    Spark-assigned GPU(s) visible; returns those GPUs' addresses."""
    os.environ.update(THREAD_ENV)
    gpus = _assigned_gpus()
    if gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
    return gpus


def _configure_devices(tf, gpus: list[str]) -> list[str]:
    """TensorFlow on one thread and on the assigned GPU(s) (memory growth), else on the CPU; returns
    the devices used."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # context already initialised in this process
        pass
    physical = tf.config.list_physical_devices("GPU")
    if gpus and physical:
        for dev in physical:
            tf.config.experimental.set_memory_growth(dev, True)
        return [d.name for d in physical]
    if physical:
        tf.config.set_visible_devices([], "GPU")
    return ["CPU"]


def _shard(rows: SplitInputs, rank: int, size: int) -> SplitInputs:
    """This rank's rows: every ``size``-th from ``rank``, cut to the same count on every rank (every
    rank must run the same number of steps, or the allreduce deadlocks)."""
    per_rank = len(rows) // size
    if per_rank == 0:
        raise ValueError(f"{len(rows)} training rows cannot be split over {size} ranks")
    return rows.rows(np.arange(len(rows))[rank::size][:per_rank])


def _resume(model, checkpoint_dir: str | None, rank: int) -> Resume | None:
    """Rank 0 reads the checkpoint and hands weights and state to every rank, which starts from them."""
    import horovod.tensorflow as hvd_tf

    resume = checkpoint.load_resume(model, checkpoint_dir) if rank == 0 else None
    resume = hvd_tf.broadcast_object(resume, root_rank=0)
    if resume is not None:
        model.set_weights(resume.weights)
    return resume


def _compile(tf, hvd, model, params: TrainParams, size: int) -> float:
    """Adam (learning rate x world size, gradient clipping) behind Horovod's distributed
    optimizer; returns the learning rate."""
    lr = params.learning_rate * size
    optimizer = hvd.DistributedOptimizer(tf.keras.optimizers.legacy.Adam(learning_rate=lr, clipnorm=params.clip_norm))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    return lr


def _callbacks(hvd, params: TrainParams, lr: float, steps_per_epoch: int, tracker) -> list:
    """Order matters: metrics are averaged across ranks before the epoch state (early stopping)
    reads them, so every rank takes the same stop decision."""
    callbacks: list = [
        hvd.callbacks.BroadcastGlobalVariablesCallback(0),
        hvd.callbacks.MetricAverageCallback(),
    ]
    if params.warmup_epochs > 0:
        callbacks.append(
            hvd.callbacks.LearningRateWarmupCallback(
                initial_lr=lr,
                warmup_epochs=params.warmup_epochs,
                momentum_correction=False,
                steps_per_epoch=steps_per_epoch,
                verbose=0,
            )
        )
    return [*callbacks, tracker]


def _train_fn(train: SplitInputs, validation: SplitInputs, spec: RankSpec) -> RankResult | None:
    """One Horovod rank. Returns weights + history on rank 0, None elsewhere."""
    gpus = _claim_gpus()
    import horovod.tensorflow.keras as hvd
    import tensorflow as tf

    devices = _configure_devices(tf, gpus)
    hvd.init()
    rank, size = hvd.rank(), hvd.size()
    p = spec.params
    tf.keras.utils.set_random_seed(p.seed)
    shard = _shard(train, rank, size)
    model = build_model(spec.vocab_size, spec.max_len, spec.n_classes, p, spec.wide)
    resume = _resume(model, spec.checkpoint_dir, rank)
    lr = _compile(tf, hvd, model, p, size)
    val = validation if len(validation) else None
    patience = p.patience if val is not None else 10**9
    tracker = _epoch_state_callback(tf, model, rank, patience, spec.checkpoint_dir, resume, spec.fail_after_epoch)
    callbacks = _callbacks(hvd, p, lr, math.ceil(len(shard) / p.batch_size), tracker)
    initial_epoch = resume.state.epoch if resume else 0
    started, epochs_before = time.perf_counter(), len(tracker.history.get("loss", []))
    if not (resume and resume.state.stopped) and initial_epoch < p.epochs:
        _fit(model, shard, val, spec, callbacks, initial_epoch, verbose=2 if rank == 0 else 0)
    fit_seconds = time.perf_counter() - started
    trained = (len(tracker.history.get("loss", [])) - epochs_before) * len(shard) * size
    best_epoch = _keep_best(model, tracker) if val is not None else None
    if rank != 0:
        return None
    return RankResult(
        weights=model.get_weights(),
        history=tracker.history,
        best_epoch=best_epoch,
        resumed_from_epoch=initial_epoch,
        samples_per_s=trained / fit_seconds if trained else 0.0,
        world_size=size,
        train_rows_per_rank=len(shard),
        devices=devices,
    )


def _fit(
    model,
    shard: SplitInputs,
    validation: SplitInputs | None,
    spec: RankSpec,
    callbacks: list,
    initial_epoch: int,
    verbose: int,
) -> None:
    """``model.fit`` on this rank's rows, from ``initial_epoch`` to ``params.epochs``."""
    p = spec.params
    model.fit(
        shard.model_inputs(p.architecture),
        shard.labels,
        batch_size=p.batch_size,
        epochs=p.epochs,
        initial_epoch=initial_epoch,
        validation_data=(validation.model_inputs(p.architecture), validation.labels)
        if validation is not None
        else None,
        shuffle=True,
        class_weight=spec.class_weight,
        callbacks=callbacks,
        verbose=verbose,
    )


def _keep_best(model, tracker) -> int | None:
    """``model`` with the best epoch's weights (if an epoch had a finite validation loss); returns that epoch."""
    if tracker.best_weights is None or tracker.best_epoch is None:
        return None
    model.set_weights(tracker.best_weights)
    return tracker.best_epoch


def _contiguous(rows: SplitInputs, max_len: int, char_len: int | None) -> SplitInputs:
    """The rows as the ranks read them: contiguous int32 token ids [n, max_len] and labels, and
    with ``char_len`` int32 char ids and float32 char weights [n, char_len]."""
    chars = {}
    if char_len is not None:
        chars = {
            "char_ids": np.ascontiguousarray(rows.char_ids, dtype=np.int32).reshape(-1, char_len),
            "char_weights": np.ascontiguousarray(rows.char_weights, dtype=np.float32).reshape(-1, char_len),
        }
    return SplitInputs(
        review_ids=rows.review_ids,
        labels=np.ascontiguousarray(rows.labels, dtype=np.int32),
        token_ids=np.ascontiguousarray(rows.token_ids, dtype=np.int32).reshape(-1, max_len),
        **chars,
    )


def train(
    spark,
    train: SplitInputs,
    validation: SplitInputs,
    *,
    vocab_size: int,
    max_len: int,
    n_classes: int,
    params: TrainParams,
    num_proc: int,
    start_timeout: int | None = None,
    checkpoint_dir: str | None = None,
    wide: WideStart | None = None,
    fail_after_epoch: int | None = None,
) -> TrainResult:
    """Train on the ``train`` rows (early stopping on the ``validation`` rows; ``wide_lstm``: with
    their char inputs and ``wide``, the start of its linear part) with ``num_proc`` Horovod
    processes on Spark; returns the model rebuilt on the driver with rank 0's weights. With
    ``checkpoint_dir``, resumes from the checkpoint found there (see the module doc);
    ``fail_after_epoch`` (tests) makes every rank fail after that epoch."""
    import horovod.spark

    check_slots(spark, num_proc)
    if params.architecture == WIDE:
        if wide is None:
            raise ValueError(f"{WIDE} needs the start of its linear part (wide=)")
        if any(s.char_ids is None or s.char_weights is None for s in (train, validation)):
            raise ValueError(f"{WIDE} training data lacks char_ids/char_weights")
    char_len = wide.char_len if params.architecture == WIDE else None
    train, validation = (_contiguous(s, max_len, char_len) for s in (train, validation))
    class_weight = class_weights(train.labels, n_classes, params.class_weight)
    spec = RankSpec(vocab_size, max_len, n_classes, params, class_weight, checkpoint_dir, wide, fail_after_epoch)
    log.info(
        "horovod.spark.run: %d processes, %d train / %d validation rows, %s",
        num_proc,
        len(train),
        len(validation),
        params.architecture,
    )
    results = horovod.spark.run(
        _train_fn,
        args=(train, validation, spec),
        num_proc=num_proc,
        env=dict(THREAD_ENV),
        start_timeout=start_timeout,
        use_gloo=True,
        verbose=1,
    )
    return _driver_model(results[0], spec)


def _driver_model(out: RankResult | None, spec: RankSpec) -> TrainResult:
    """The model rebuilt on the driver with rank 0's weights, and what rank 0 reported."""
    if not isinstance(out, RankResult):
        raise RuntimeError("Horovod rank 0 returned no weights")
    model = build_model(spec.vocab_size, spec.max_len, spec.n_classes, spec.params, spec.wide)
    model.set_weights(out.weights)
    return TrainResult(
        model=model,
        history=out.history,
        best_epoch=out.best_epoch,
        epochs_run=len(out.history.get("loss", [])),
        world_size=out.world_size,
        train_rows_per_rank=out.train_rows_per_rank,
        devices=out.devices,
        resumed_from_epoch=out.resumed_from_epoch,
        samples_per_s=out.samples_per_s,
    )
