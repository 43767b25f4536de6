"""Training: classifiers fitted on the training split, stopped early on the validation split,
averaged when there are several (train.members), and calibrated on the same split.

`train()` takes arrays and params and returns the text model and its validation
figures; stages/train.py does the reading and writing around it. Each member
trains in a process of its own (modeling/members.py).
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from movie_genre import glove, runtime
from movie_genre.calibration import fit_temperature, with_temperature
from movie_genre.errors import PipelineError
from movie_genre.modeling.batching import LengthBatches, class_weights
from movie_genre.modeling.build import build_classifier, build_text_model
from movie_genre.modeling.layers import blend
from movie_genre.modeling.members import report_epoch, run_members
from movie_genre.modeling.optimizers import training_model
from movie_genre.modeling.pretrain import start_from_encoder
from movie_genre.modeling.schema import check_params
from movie_genre.modeling.wide import fit_wide
from movie_genre.pretraining import EMBEDDING
from movie_genre.scoring import score
from movie_genre.vocabulary import RESERVED, embedding_matrix

MEMBER_SEED_STEP = 1000  # member i trains with seed + 1000 i: one member is the plain seed


def predicted_probabilities(classifier: keras.Model, batches: LengthBatches) -> np.ndarray:
    """The classifier's probabilities for each row of `batches`, in the rows' own order."""
    probabilities = np.empty((len(batches.labels), batches.n_genres), dtype=np.float32)
    probabilities[batches.rows()] = classifier.predict(batches, verbose=0)
    return probabilities


class ReportEpochs(keras.callbacks.Callback):
    """In a member's process: each epoch's logs to the parent, for its progress line."""

    def __init__(self, member: int):
        super().__init__()
        self.member = member

    def on_epoch_end(self, epoch, logs=None):
        report_epoch(self.member, epoch, logs)


class ValidationScores(keras.callbacks.Callback):
    """Scores the validation split once an epoch, from one pass over it: val_loss (the
    training loss's cross-entropy, label smoothing included, unweighted), val_accuracy and
    val_macro_f1, for early stopping and the curves (Keras' own validation would be a
    second pass)."""

    def __init__(self, classifier: keras.Model, batches: LengthBatches, label_smoothing: float):
        super().__init__()
        self.classifier, self.batches, self.label_smoothing = classifier, batches, label_smoothing

    def on_epoch_end(self, epoch, logs=None):
        from sklearn.metrics import f1_score

        probabilities = predicted_probabilities(self.classifier, self.batches).astype(np.float64)
        labels, n_genres = self.batches.labels, self.batches.n_genres
        targets = np.eye(n_genres)[labels] * (1 - self.label_smoothing) + self.label_smoothing / n_genres
        clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)  # as Keras clips probabilities
        predicted = probabilities.argmax(axis=1)
        logs["val_accuracy"] = float((predicted == labels).mean())
        logs["val_loss"] = float(-(targets * np.log(clipped)).sum(axis=1).mean())
        logs["val_macro_f1"] = f1_score(labels, predicted, labels=range(n_genres), average="macro", zero_division=0)


def fit_classifier(params: dict, seed: int, name: str, word_vectors, n_words: int, n_genres: int,
                   train_set, val_batches: LengthBatches, callbacks=(), encoder=None):
    """Train with `seed` until validation stops improving; returns the classifier with the
    kept epoch's weights, and the history (its "kept_epoch" from 1).

    `encoder` (train.encoder: pretrained): the pretrain stage's weights by path.
    """
    keras.utils.set_random_seed(seed)
    train_x, train_len, train_y = train_set
    row_weights = class_weights(train_y, n_genres, params["class_weight_power"])[train_y]
    # Ids above the largest in the training rows never get a gradient: they stay fixed.
    classifier = build_classifier(n_words, n_genres, params, word_vectors, int(train_x.max()) + 1, name=name)
    if encoder is not None:
        start_from_encoder(classifier, encoder, "the pretrained encoder")
    train_batches = LengthBatches(train_x, train_len, train_y, n_genres, params["batch_size"], seed, row_weights)
    monitor = params["monitor"]
    stopping = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min" if monitor == "val_loss" else "max",
        patience=params["patience"], restore_best_weights=True, verbose=0,
    )
    scores = ValidationScores(classifier, val_batches, params["label_smoothing"])
    history = training_model(classifier, params, params["epochs"] * len(train_batches)).fit(
        train_batches, epochs=params["epochs"], callbacks=[scores, stopping, *callbacks], verbose=0,
    ).history
    history["kept_epoch"] = kept_epoch(params, history)
    return classifier, history


def kept_epoch(params: dict, history: dict) -> int:
    """The epoch (from 1) whose weights early stopping kept."""
    monitored = np.array(history[params["monitor"]])
    return int(monitored.argmin() if params["monitor"] == "val_loss" else monitored.argmax()) + 1


def member_name(params: dict, member: int) -> str:
    return "classifier" if params["members"] == 1 else f"classifier_{member + 1}"


def _train_member(member: int, params: dict, word_vectors, n_words: int, n_genres: int, train_set, val_set,
                  encoder):
    """One member in its own process: its weights, validation probabilities and history."""
    tf.config.experimental.enable_op_determinism()
    val_batches = LengthBatches(*val_set, n_genres, params["batch_size"])
    classifier, history = fit_classifier(params, params["seed"] + MEMBER_SEED_STEP * member,
                                         member_name(params, member), word_vectors, n_words, n_genres, train_set,
                                         val_batches, [ReportEpochs(member)], encoder)
    return classifier.get_weights(), predicted_probabilities(classifier, val_batches), history


def fit_members(params: dict, word_vectors, n_words: int, n_genres: int, train_set, val_set, log_epoch=None,
                encoder=None):
    """train.members classifiers (seeds seed, seed + 1000, ...), each in a process of its own;
    returns them, their validation probabilities averaged, the kept epochs and the epochs run.
    `log_epoch(logs)` gets the first member's epochs."""
    train_member = functools.partial(_train_member, params=params, word_vectors=word_vectors, n_words=n_words,
                                     n_genres=n_genres, train_set=train_set, val_set=val_set, encoder=encoder)
    results = run_members(train_member, params["members"], params["epochs"], params["arithmetic"], log_epoch)
    classifiers = []
    for member, (weights, _, _) in enumerate(results):
        classifier = build_classifier(n_words, n_genres, params, word_vectors, int(train_set[0].max()) + 1,
                                      name=member_name(params, member))
        classifier.set_weights(weights)
        classifiers.append(classifier)
    averaged = np.mean([probabilities for _, probabilities, _ in results], axis=0)
    histories = [history for _, _, history in results]
    return (classifiers, averaged, [h["kept_epoch"] for h in histories], sum(len(h["loss"]) for h in histories))


def initial_vectors(params: dict, vocabulary: list[str], corpus_vectors=None, encoder=None):
    """The embedding's starting matrix for train.embedding (None: Keras' random one), or under
    train.encoder: pretrained the pretrained encoder's."""
    if params["encoder"] == "pretrained":
        matrix = encoder[EMBEDDING]
        if matrix.shape != (len(vocabulary) + RESERVED, params["embedding_dim"]):
            raise PipelineError(f"the pretrained encoder's embedding is {matrix.shape}, not for this vocabulary of "
                                f"{len(vocabulary)} words and train.embedding_dim {params['embedding_dim']}: "
                                "set train's encoder keys as pretrain's, or run `dvc repro pretrain`")
        print(f"the pretrained encoder for {len(vocabulary)} words")
        return matrix
    if params["embedding"] == "random":
        return None
    if params["embedding"] == "glove":
        matrix, found = glove.vectors(vocabulary, RESERVED, params["seed"])
    else:
        matrix, found = embedding_matrix(vocabulary, RESERVED, *corpus_vectors, params["seed"])
    print(f"{params['embedding']} vectors for {found} of {len(vocabulary)} words")
    return matrix


def train(params: dict, vocabulary: list[str], genres: list[str], train_set, val_set, stopwords,
          with_title: bool = False, log_epoch=None, corpus_vectors=None, encoder=None,
          texts=None) -> tuple[keras.Model, dict]:
    """Fit train.members classifiers, the wide path (train.wide_weight > 0) and a temperature;
    return the text model (raw title and plot in) and the validation figures of the
    averaged, kept epochs blended with the wide path.

    `train_set` and `val_set` are (padded word ids, lengths, labels) as
    vocabulary.read_sequences gives them, `texts` their rows' cleaned texts (two lists)
    for the wide path.  `log_epoch(logs)` (DVCLive's) follows
    the first member, epoch by epoch.  `corpus_vectors` (words, matrix) serve
    train.embedding=corpus; `encoder` (the pretrain stage's weights by path)
    train.encoder=pretrained.
    """
    check_params(params)
    runtime.configure(params["arithmetic"])
    tf.config.experimental.enable_op_determinism()
    word_vectors = initial_vectors(params, vocabulary, corpus_vectors, encoder)
    classifiers, averaged, kept_epochs, epochs_run = fit_members(
        params, word_vectors, len(vocabulary) + RESERVED, len(genres), train_set, val_set, log_epoch, encoder
    )
    labels = val_set[2]
    names = np.array(genres)
    wide, wide_scores = None, {}
    if params["wide_weight"] > 0:
        fit_texts, val_texts = texts
        wide = fit_wide(params, fit_texts, train_set[2], len(genres))
        wide_probabilities = wide(tf.constant(np.asarray(val_texts, dtype=object))).numpy()
        alone = score(names[labels].tolist(), names[wide_probabilities.argmax(axis=1)].tolist(), genres)
        wide_scores = {"wide_accuracy": alone["accuracy"], "wide_macro_f1": alone["macro_f1"]}
        averaged = blend(averaged, wide_probabilities, params["wide_weight"]).numpy()
    temperature = fit_temperature(averaged, labels)
    # The averaged (and blended) probabilities of the kept epochs, on the validation split: the
    # figures to tune by, and the temperature that makes them honest (argmax, so scores, unchanged).
    validation = score(names[labels].tolist(), names[averaged.argmax(axis=1)].tolist(), genres)
    del validation["per_genre"]
    validation.update(wide_scores)
    validation["best_epoch"] = round(float(np.mean(kept_epochs)), 1) if len(kept_epochs) > 1 else kept_epochs[0]
    validation["epochs_run"] = epochs_run
    validation["temperature"] = temperature
    validation["mean_top1_raw"] = round(float(averaged.max(axis=1).mean()), 4)
    validation["mean_top1"] = round(float(with_temperature(averaged, temperature).max(axis=1).mean()), 4)
    text_model = build_text_model(
        classifiers, vocabulary, stopwords, genres, train_set[0].shape[1], with_title, temperature,
        wide, params["wide_weight"],
    )
    return text_model, validation
