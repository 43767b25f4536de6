"""The ops that replace those whose last bits are the CPU vendor's (docs/reproducibility.md):
they compute what the ops they replace compute, and training still reads the logits."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import tensorflow as tf  # noqa: E402
from conftest import SMALL_MODEL  # noqa: E402

from movie_genre.modeling.build import build_classifier, logits  # noqa: E402
from movie_genre.modeling.layers import exact_softmax  # noqa: E402
from movie_genre.modeling.optimizers import training_model  # noqa: E402
from movie_genre.modeling.pretrain import names_loss  # noqa: E402

OPTIMIZER = {"optimizer": "fused_adam", "learning_rate": 0.01, "lr_schedule": "constant", "label_smoothing": 0.1}


def test_exact_softmax_is_softmax_within_a_few_last_bits_on_any_logits():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(200, 27)) * scale for scale in (0.01, 1, 30, 1e4)]).astype(np.float32)
    x[0] = np.float32(-3.4e38)  # a row of masked steps, as attention pooling sets them
    x[1, :5] = np.float32(-3.4e38)
    ours = exact_softmax(tf.constant(x)).numpy()
    np.testing.assert_allclose(ours, tf.nn.softmax(x).numpy(), rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(ours.sum(axis=1), 1, rtol=3e-6)
    assert (ours[1, :5] == 0).all() and np.allclose(ours[0], 1 / 27)
    np.testing.assert_allclose(exact_softmax(tf.constant(x[:3]), axis=0).numpy(),
                               tf.nn.softmax(x[:3], axis=0).numpy(), rtol=2e-6, atol=1e-30)


def test_exact_softmax_has_softmaxs_gradient():
    x = tf.constant(np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32))
    weights = tf.constant(np.random.default_rng(2).normal(size=(8, 5)).astype(np.float32))
    gradients = []
    for softmax in (exact_softmax, tf.nn.softmax):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(softmax(x) * weights)
        gradients.append(tape.gradient(loss, x).numpy())
    np.testing.assert_allclose(*gradients, rtol=1e-4, atol=1e-6)


def test_training_reads_the_logits_as_keras_does_behind_its_own_softmax():
    """The same weights, bit for bit, as Keras' Dense(softmax) with its cross-entropy (which finds the
    logits behind its softmax): a head that hid them would send the loss to clip and log instead."""
    x = np.random.default_rng(3).integers(1, 9, size=(16, 6)).astype(np.int32)
    y = keras.utils.to_categorical(np.arange(16) % 3, 3)
    weights = np.random.default_rng(4).random(16).astype(np.float32)

    def trained(ours):
        keras.utils.set_random_seed(7)
        classifier = build_classifier(10, 3, SMALL_MODEL)
        if ours:
            model = training_model(classifier, OPTIMIZER, 10)
            assert model.output is logits(classifier)
        else:
            model = keras.Model(classifier.inputs, keras.layers.Activation("softmax")(logits(classifier)))
            model.compile(optimizer=training_model(classifier, OPTIMIZER, 10).optimizer,
                          loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
        for _ in range(3):
            model.train_on_batch(x, y, sample_weight=weights)
        return [w.numpy() for w in classifier.weights]

    for ours, theirs in zip(trained(True), trained(False)):
        np.testing.assert_array_equal(ours, theirs)


def test_the_names_loss_is_sigmoid_cross_entropy_and_its_gradient_sigmoid_minus_target():
    rng = np.random.default_rng(5)
    head = tf.constant((rng.normal(size=(32, 7)) * 6).astype(np.float32))
    targets = tf.constant((rng.random((32, 7)) < 0.3).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(head)
        loss = names_loss(targets, head)
        total = tf.reduce_sum(loss)
    expected = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=head), axis=-1)
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(total, head).numpy(), ((tf.sigmoid(head) - targets) / 7).numpy(),
                               rtol=1e-6)
