"""Training through Horovod on Spark (2 Gloo processes on local[2]) resumes from the last checkpoint
after a rank fails: the rank's error reaches the driver as a failed Horovod job, and the rerun
starts at the next epoch. The checkpoint logic alone, in plain Keras: tests/integration/test_train_score.py."""

from __future__ import annotations

import pytest

from tests.integration.test_train_score import (
    CLASSES,
    MAX_LEN,
    RESUME_PARAMS,
    VOCAB_SIZE,
    train_params,
    training_arrays,
)


def test_training_resumes_from_the_last_checkpoint_after_a_failure(spark, tmp_path):
    """A run that fails after epoch 1 leaves a checkpoint; the rerun starts at epoch 2 from it."""
    from reviewlake.train import checkpoint, horovod_spark

    arrays, params = training_arrays(), train_params(**RESUME_PARAMS)
    rows = (arrays["train"], arrays["validation"])
    ckpt = str(tmp_path / "ckpt")
    shape = {"vocab_size": VOCAB_SIZE, "max_len": MAX_LEN, "n_classes": len(CLASSES), "num_proc": 2}

    with pytest.raises(Exception):  # noqa: B017 - the rank's error reaches the driver as a failed Horovod job
        horovod_spark.train(spark, *rows, params=params, checkpoint_dir=ckpt, fail_after_epoch=1, **shape)
    state = checkpoint.read_checkpoint_state(ckpt)
    assert state.epoch == 1 and len(state.history["loss"]) == 1

    result = horovod_spark.train(spark, *rows, params=params, checkpoint_dir=ckpt, **shape)
    assert result.resumed_from_epoch == 1
    assert result.epochs_run == 2
    assert result.history["loss"][0] == state.history["loss"][0]  # epoch 1 is not redone
    assert checkpoint.read_checkpoint_state(ckpt).epoch == 2
