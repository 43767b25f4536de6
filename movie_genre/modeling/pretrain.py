"""The encoder (embedding -> BiLSTM -> pooling) learns the corpus's own genre names, a sigmoid each.

`pretrain()` takes arrays and params and returns the encoder's weights and its
held-out figures; stages/pretrain.py reads and writes around it.  The encoder
file holds the whole embedding table (`embedding`) and the layers after it by
their weight paths, so a classifier of the same shape can start from it
(`train.encoder: pretrained`), whatever rows it learns.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from movie_genre.errors import PipelineError
from movie_genre.modeling.batching import LengthBatches
from movie_genre.modeling.build import build_classifier, learned_rows, logits
from movie_genre.modeling.optimizers import make_optimizer
from movie_genre.pretraining import (
    BATCH_SIZE,
    DROPOUT,
    EMBEDDING,
    ENCODER_KEYS,
    HEAD,
    LEARNING_RATE,
    most_frequent_guess,
    multilabel_scores,
)


def encoder_params(params: dict) -> dict:
    """pretrain's params as build_classifier reads a train section."""
    return {**params, "embedding_trainable": True, "dropout": DROPOUT}


@tf.custom_gradient
def _sigmoid_cross_entropy(z, x):
    """TensorFlow's sigmoid_cross_entropy_with_logits of targets z and logits x, with its gradient
    sigmoid(x) - z written out: TensorFlow's own goes through log1p's gradient, a reciprocal
    (RCPPS on x86: the CPU vendor's bits)."""
    value = tf.nn.relu(x) - x * z + tf.math.log1p(tf.exp(-tf.abs(x)))

    def gradient(upstream):
        return tf.zeros_like(z), upstream * (tf.sigmoid(x) - z)

    return value, gradient


def names_loss(targets, head):
    """Binary cross-entropy of each name from the head's logits, averaged over the names."""
    return tf.reduce_mean(_sigmoid_cross_entropy(tf.cast(targets, head.dtype), head), axis=-1)


def pretraining_model(params: dict, n_words: int, n_names: int, vectors, learned_rows: int):
    """The encoder with a sigmoid per name, and its layers up to the names' logits compiled for training."""
    model = build_classifier(n_words, n_names, encoder_params(params), vectors, learned_rows,
                             name="pretraining", head_activation="sigmoid", head_name=HEAD)
    trainer = keras.Model(model.inputs, logits(model), name="pretraining_logits")
    trainer.compile(optimizer=make_optimizer("fused_adam", LEARNING_RATE), loss=names_loss)
    return model, trainer


def pretrain(params: dict, n_words: int, vectors, texts, labels: np.ndarray, held_out: np.ndarray):
    """Fit the encoder and a head on the texts not held out; returns the weights by name
    (encoder_weights) and the held-out figures beside those of always guessing the most frequent names.

    `texts` is (padded word ids, lengths); `labels` a texts x names 0/1 matrix.
    """
    tf.config.experimental.enable_op_determinism()
    x, lengths = texts
    fit = np.setdiff1d(np.arange(len(labels)), held_out)
    keras.utils.set_random_seed(params["seed"])
    model, trainer = pretraining_model(params, n_words, labels.shape[1], vectors, learned_rows(x[fit]))
    batches = LengthBatches(x[fit], lengths[fit], labels[fit], labels.shape[1], BATCH_SIZE, params["seed"])
    start = time.monotonic()
    for epoch in range(params["epochs"]):
        loss = trainer.fit(batches, epochs=1, verbose=0).history["loss"][-1]
        batches.on_epoch_end()
        elapsed = time.monotonic() - start
        print(f"pretrain epoch {epoch + 1} of {params['epochs']}: loss {loss:.4f}; {elapsed:.0f} s elapsed, "
              f"about {elapsed / (epoch + 1) * (params['epochs'] - epoch - 1):.0f} s left", flush=True)
    held = LengthBatches(x[held_out], lengths[held_out], labels[held_out], labels.shape[1], 512)
    probabilities = np.empty((len(held_out), labels.shape[1]), np.float32)
    probabilities[held.rows()] = model.predict(held, verbose=0)
    truth = labels[held_out]
    figures = {
        "held_out_texts": int(len(held_out)),
        "encoder": multilabel_scores(truth, (probabilities >= 0.5).astype(np.float32)),
        "most_frequent_names": multilabel_scores(truth, most_frequent_guess(labels[fit], len(held_out))),
    }
    return encoder_weights(model), figures


def encoder_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """The whole embedding table, then every other weight by path (the names' head's too: the
    joint training starts its head from it)."""
    table = model.get_layer(EMBEDDING)
    weights = {EMBEDDING: np.concatenate([table.learned.numpy(), table.fixed.numpy()])}
    for weight in model.weights:
        if not weight.path.startswith(EMBEDDING + "/"):
            weights[weight.path] = weight.numpy()
    return weights


def start_from_encoder(classifier: keras.Model, weights: dict[str, np.ndarray], path) -> None:
    """Give the classifier's layers after its embedding the encoder's weights (the embedding
    took the table as its initial vectors); every one of them must be there, of its shape."""
    for weight in classifier.weights:
        if weight.path.startswith((EMBEDDING + "/", "genre/")):
            continue
        value = weights.get(weight.path)
        if value is None or value.shape != tuple(weight.shape):
            raise PipelineError(
                f"{path}: no weight {weight.path} of shape {tuple(weight.shape)} "
                f"({'none' if value is None else value.shape}); set train's {', '.join(ENCODER_KEYS)} "
                "as pretrain's, which made the encoder"
            )
        weight.assign(value)
