"""Self-training: the teacher's calibrated soft labels for corpus texts, and a student that learns from them."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from conftest import SMALL_MODEL  # noqa: E402

from movie_genre.calibration import with_temperature  # noqa: E402
from movie_genre.modeling.batching import LengthBatches  # noqa: E402
from movie_genre.modeling.build import build_classifier  # noqa: E402
from movie_genre.modeling.train import fit_classifier, predicted_probabilities, soft_labels  # noqa: E402

PARAMS = {
    **SMALL_MODEL, "batch_size": 4, "epochs": 2, "class_weight_power": 0.5, "monitor": "val_loss",
    "patience": 5, "optimizer": "fused_adam", "learning_rate": 0.05, "lr_schedule": "constant",
    "label_smoothing": 0.0, "ensemble": "seeds", "members": 1, "cycle_epochs": 1, "swa_epochs": 1,
    "encoder": "word_vectors", "encoder_lr_scale": 1.0, "joint_weight": 0.0,
}


def rows(ids, width=3):  # padded to one max_len, as read_sequences and the train stage pad
    return np.array([list(row) + [0] * (width - len(row)) for row in ids], np.int32), np.array(list(map(len, ids)))


def test_soft_labels_are_batched_as_given_and_hard_ones_one_hot():
    matrix, lengths = rows([[2, 3], [4]])
    soft = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    x, y, w = LengthBatches(matrix, lengths, soft, 3, 2, row_weights=np.array([1.0, 0.5]))[0]
    order = np.argsort(lengths, kind="stable")
    np.testing.assert_array_equal(y, soft[order])
    x, y = LengthBatches(matrix, lengths, np.array([2, 0]), 3, 2)[0]
    np.testing.assert_array_equal(y, np.eye(3)[np.array([2, 0])[order]])


def test_the_teacher_keeps_only_texts_it_is_sure_enough_of_and_its_labels_are_calibrated():
    keras.utils.set_random_seed(0)
    teachers = [build_classifier(9, 3, SMALL_MODEL, name=f"classifier_{i}") for i in (1, 2)]
    corpus_x, corpus_len = rows([[2, 3, 4], [5], [6, 7], [8, 2, 2, 2], [3]], width=4)
    batches = LengthBatches(corpus_x, corpus_len, np.zeros(5, np.int32), 3, 8)
    expected = with_temperature(np.mean([predicted_probabilities(t, batches) for t in teachers], axis=0), 0.5)
    threshold = float(np.median(expected.max(axis=1)))
    x, lengths, labels = soft_labels(teachers, 0.5, (corpus_x, corpus_len), 3, threshold)
    sure = expected.max(axis=1) >= threshold
    assert 0 < sure.sum() < 5
    np.testing.assert_array_equal(x, corpus_x[sure])
    np.testing.assert_array_equal(lengths, corpus_len[sure])
    np.testing.assert_allclose(labels, expected[sure], rtol=1e-6)
    np.testing.assert_allclose(labels.sum(axis=1), 1, rtol=1e-5)


def test_the_student_learns_words_only_the_corpus_holds():
    labelled = (*rows([[2, 3], [3, 2], [2], [3]]), np.array([0, 1, 0, 1]))
    val = LengthBatches(*rows([[2, 3], [3]]), np.array([0, 1]), 2, 4)
    corpus_x, corpus_len = rows([[6, 7], [7, 6, 6]])
    vectors = np.random.default_rng(0).normal(size=(8, SMALL_MODEL["embedding_dim"])).astype(np.float32)
    plain, _, _ = fit_classifier(PARAMS, 1, "classifier", vectors, 8, 2, labelled, val)
    extra = (corpus_x, corpus_len, np.array([[0.9, 0.1], [0.2, 0.8]], np.float32), 1.0)
    student, _, history = fit_classifier(PARAMS, 1, "classifier", vectors, 8, 2, labelled, val, extra=extra)

    def table(model):
        return np.concatenate([w.numpy() for w in model.get_layer("embedding").weights])

    np.testing.assert_array_equal(table(plain)[6:8], vectors[6:8])  # no labelled row holds ids 6 and 7
    assert not np.allclose(table(student)[6:8], vectors[6:8])
    assert len(history["loss"]) == 2
