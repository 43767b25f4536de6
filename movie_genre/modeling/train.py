"""Training: the classifier fitted on the training split, stopped early on the validation split.

`train()` takes arrays and params and returns the text model and its validation
figures; stages/train.py does the reading and writing around it.
"""

import keras
import numpy as np
import tensorflow as tf

from movie_genre import glove, runtime
from movie_genre.modeling.batching import LengthBatches, class_weights
from movie_genre.modeling.build import build_classifier, build_text_model
from movie_genre.modeling.optimizers import training_model
from movie_genre.modeling.schema import check_params
from movie_genre.scoring import score
from movie_genre.vocabulary import RESERVED


def predicted_labels(classifier: keras.Model, batches: LengthBatches) -> np.ndarray:
    """The classifier's genre for each row of `batches`, in the rows' own order."""
    predicted = np.empty(len(batches.labels), dtype=np.int64)
    predicted[batches.rows()] = classifier.predict(batches, verbose=0).argmax(axis=1)
    return predicted


class ValidationMacroF1(keras.callbacks.Callback):
    """Adds val_macro_f1 to each epoch's logs, for early stopping and the curves."""

    def __init__(self, classifier: keras.Model, batches: LengthBatches):
        super().__init__()
        self.classifier, self.batches = classifier, batches

    def on_epoch_end(self, epoch, logs=None):
        from sklearn.metrics import f1_score

        labels, predicted = self.batches.labels, predicted_labels(self.classifier, self.batches)
        logs["val_macro_f1"] = f1_score(
            labels, predicted, labels=range(self.batches.n_genres), average="macro", zero_division=0
        )


def train(params: dict, vocabulary: list[str], genres: list[str], train_set, val_set, stopwords,
          with_title: bool = False, callbacks=()) -> tuple[keras.Model, dict]:
    """Fit the classifier; return the text model (raw title and plot in) and the kept epoch's validation figures.

    `train_set` and `val_set` are (padded word ids, lengths, labels) as
    vocabulary.read_sequences gives them.
    """
    check_params(params)
    runtime.configure(params["arithmetic"])
    keras.utils.set_random_seed(params["seed"])
    tf.config.experimental.enable_op_determinism()
    train_x, train_len, train_y = train_set

    word_vectors = None
    if params["embedding"] == "glove":
        word_vectors, found = glove.vectors(vocabulary, RESERVED, params["seed"])
        print(f"GloVe vectors for {found} of {len(vocabulary)} words")
    # Ids above the largest in the training rows never get a gradient: they stay fixed.
    classifier = build_classifier(len(vocabulary) + RESERVED, len(genres), params, word_vectors, int(train_x.max()) + 1)
    classifier.summary()
    weights = class_weights(train_y, len(genres), params["class_weight_power"])
    train_batches = LengthBatches(
        train_x, train_len, train_y, len(genres), params["batch_size"], params["seed"], weights[train_y]
    )
    val_batches = LengthBatches(*val_set, len(genres), params["batch_size"])

    monitor = params["monitor"]
    stopping = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min" if monitor == "val_loss" else "max",
        patience=params["patience"], restore_best_weights=True, verbose=1,
    )
    history = training_model(classifier, params, params["epochs"] * len(train_batches)).fit(
        train_batches, validation_data=val_batches, epochs=params["epochs"],
        callbacks=[ValidationMacroF1(classifier, val_batches), stopping, *callbacks], verbose=2,
    )

    # The restored best weights, scored on the validation split: the figures to tune by.
    names = np.array(genres)
    predicted = predicted_labels(classifier, val_batches)
    validation = score(names[val_batches.labels].tolist(), names[predicted].tolist(), genres)
    del validation["per_genre"]
    monitored = np.array(history.history[monitor])
    validation["best_epoch"] = int(monitored.argmin() if monitor == "val_loss" else monitored.argmax()) + 1
    validation["epochs_run"] = len(monitored)
    text_model = build_text_model(classifier, vocabulary, stopwords, genres, train_x.shape[1], with_title)
    return text_model, validation
