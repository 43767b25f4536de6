"""train.ensemble: snapshots (one run's cycle ends) and swa (weights averaged up to the kept epoch)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from conftest import SMALL_MODEL  # noqa: E402

from movie_genre.modeling.batching import LengthBatches  # noqa: E402
from movie_genre.modeling.train import fit_classifier, kept_epoch  # noqa: E402

PARAMS = {
    **SMALL_MODEL, "batch_size": 2, "epochs": 6, "class_weight_power": 0.5, "monitor": "val_loss",
    "patience": 10, "optimizer": "fused_adam", "learning_rate": 0.05, "lr_schedule": "constant",
    "label_smoothing": 0.0, "ensemble": "seeds", "members": 3, "cycle_epochs": 2, "swa_epochs": 3,
    "encoder": "word_vectors", "encoder_lr_scale": 1.0, "joint_weight": 0.0,
}
IDS = [[2, 3], [3, 2], [2], [3], [4, 2], [4]]


def data():
    matrix = np.array([row + [0] * (2 - len(row)) for row in IDS], np.int32)
    lengths, labels = np.array([len(row) for row in IDS]), np.array([0, 1, 0, 1, 0, 1])
    return (matrix, lengths, labels), LengthBatches(matrix[:4], lengths[:4], labels[:4], 2, 4)


class EveryEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights, self.rates = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(float(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def test_snapshots_are_the_ends_of_cycles_that_restart_at_the_full_rate():
    params = {**PARAMS, "ensemble": "snapshots"}
    train_set, val = data()
    seen = EveryEpoch()
    classifier, taken, history = fit_classifier(params, 1, "classifier", None, 5, 2, train_set, val, [seen])
    assert len(history["loss"]) == 6 and history["kept_epochs"] == [2, 4, 6]  # no early stopping
    assert len(taken) == 3
    for snapshot, epoch in zip(taken, (2, 4, 6)):
        for mine, expected in zip(snapshot, seen.weights[epoch - 1]):
            np.testing.assert_array_equal(mine, expected)
    assert not np.allclose(taken[0][0], taken[1][0])
    # 3 batches an epoch, 6 steps a cycle: down to 0 by each cycle's end, then the full rate again
    rates = seen.rates
    assert len(rates) == 18 and rates[0] == pytest.approx(0.05) and rates[5] < 0.01
    assert rates[6] == pytest.approx(0.05) and rates[12] == pytest.approx(0.05)
    assert all(later < earlier for earlier, later in zip(rates[:5], rates[1:6]))


def test_swa_is_the_mean_of_the_weights_over_the_epochs_up_to_the_kept_one():
    params = {**PARAMS, "ensemble": "swa"}
    train_set, val = data()
    seen = EveryEpoch()
    _, taken, history = fit_classifier(params, 1, "classifier", None, 5, 2, train_set, val, [seen])
    kept = kept_epoch(params, history)
    assert history["kept_epochs"] == [kept] and len(taken) == 1
    window = seen.weights[max(kept - 3, 0):kept]
    for mine, parts in zip(taken[0], zip(*window)):
        np.testing.assert_allclose(mine, np.mean(parts, axis=0), rtol=1e-6, atol=1e-7)
    if len(window) > 1:  # the mean is not any one epoch's weights
        assert not np.allclose(taken[0][0], window[-1][0])


def test_seeds_keep_the_kept_epochs_weights():
    train_set, val = data()
    seen = EveryEpoch()
    _, taken, history = fit_classifier(PARAMS, 1, "classifier", None, 5, 2, train_set, val, [seen])
    kept = kept_epoch(PARAMS, history)
    for mine, expected in zip(taken[0], seen.weights[kept - 1]):
        np.testing.assert_array_equal(mine, expected)
