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

from movie_genre.errors import PipelineError
from movie_genre.modeling.batching import LengthBatches
from movie_genre.modeling.build import build_classifier
from movie_genre.modeling.optimizers import make_optimizer
from movie_genre.pretraining import (
    BATCH_SIZE,
    DROPOUT,
    EMBEDDING,
    HEAD,
    LEARNING_RATE,
    most_frequent_guess,
    multilabel_scores,
)


def encoder_params(params: dict) -> dict:
    """pretrain's params as build_classifier reads a train section."""
    return {**params, "embedding_trainable": True, "dropout": DROPOUT}


def pretrain(params: dict, n_words: int, vectors, texts, labels: np.ndarray, held_out: np.ndarray):
    """Fit the encoder and a head on the texts not held out; returns the weights by name
    (encoder_weights) and the held-out figures beside those of always guessing the most frequent names.

    `texts` is (padded word ids, lengths); `labels` a texts x names 0/1 matrix.
    """
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    x, lengths = texts
    fit = np.setdiff1d(np.arange(len(labels)), held_out)
    keras.utils.set_random_seed(params["seed"])
    model = build_classifier(n_words, labels.shape[1], encoder_params(params), vectors, int(x[fit].max()) + 1,
                             name="pretraining", head_activation="sigmoid", head_name=HEAD)
    model.compile(optimizer=make_optimizer("fused_adam", LEARNING_RATE),
                  loss=keras.losses.BinaryCrossentropy())
    batches = LengthBatches(x[fit], lengths[fit], labels[fit], labels.shape[1], BATCH_SIZE, params["seed"])
    start = time.monotonic()
    for epoch in range(params["epochs"]):
        loss = model.fit(batches, epochs=1, verbose=0).history["loss"][-1]
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
                f"({'none' if value is None else value.shape}); rerun `dvc repro pretrain`"
            )
        weight.assign(value)
