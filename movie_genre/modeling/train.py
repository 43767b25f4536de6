"""Training: classifiers fitted on the training split, stopped early on the validation split,
averaged when there are several (train.members), and calibrated on the same split.

`train()` takes arrays and params and returns the text model and its validation
figures; stages/train.py does the reading and writing around it.
"""

import keras
import numpy as np
import tensorflow as tf

from movie_genre import glove, runtime
from movie_genre.calibration import fit_temperature, with_temperature
from movie_genre.modeling.batching import LengthBatches, class_weights
from movie_genre.modeling.build import build_classifier, build_text_model
from movie_genre.modeling.optimizers import training_model
from movie_genre.modeling.schema import check_params
from movie_genre.scoring import score
from movie_genre.vocabulary import RESERVED, embedding_matrix

MEMBER_SEED_STEP = 1000  # member i trains with seed + 1000 i: one member is the plain seed
TEACHER_BATCH = 512  # rows per batch when the teacher labels the corpus (inference only)


def predicted_probabilities(classifier: keras.Model, batches: LengthBatches) -> np.ndarray:
    """The classifier's probabilities for each row of `batches`, in the rows' own order."""
    probabilities = np.empty((len(batches.labels), batches.n_genres), dtype=np.float32)
    probabilities[batches.rows()] = classifier.predict(batches, verbose=0)
    return probabilities


class ValidationMacroF1(keras.callbacks.Callback):
    """Adds val_macro_f1 to each epoch's logs, for early stopping and the curves."""

    def __init__(self, classifier: keras.Model, batches: LengthBatches):
        super().__init__()
        self.classifier, self.batches = classifier, batches

    def on_epoch_end(self, epoch, logs=None):
        from sklearn.metrics import f1_score

        predicted = predicted_probabilities(self.classifier, self.batches).argmax(axis=1)
        logs["val_macro_f1"] = f1_score(
            self.batches.labels, predicted, labels=range(self.batches.n_genres), average="macro", zero_division=0
        )


def fit_classifier(params: dict, seed: int, name: str, word_vectors, n_words: int, n_genres: int,
                   train_set, val_batches: LengthBatches, callbacks=(), extra=None) -> tuple[keras.Model, dict]:
    """One classifier, trained with `seed`; returns it (the best epoch's weights) and its history.

    `extra` adds rows beyond the labelled ones: (word ids, lengths, genre
    probabilities, row weight), a teacher's soft labels for the corpus.
    """
    keras.utils.set_random_seed(seed)
    train_x, train_len, train_y = train_set
    row_weights = class_weights(train_y, n_genres, params["class_weight_power"])[train_y]
    if extra is not None:
        extra_x, extra_len, extra_p, extra_weight = extra
        train_x, train_len = np.concatenate([train_x, extra_x]), np.concatenate([train_len, extra_len])
        train_y = np.concatenate([np.eye(n_genres, dtype=np.float32)[train_y], extra_p])
        row_weights = np.concatenate([row_weights, np.full(len(extra_x), extra_weight)])
    # Ids above the largest in the training rows never get a gradient: they stay fixed.
    classifier = build_classifier(n_words, n_genres, params, word_vectors, int(train_x.max()) + 1, name=name)
    train_batches = LengthBatches(train_x, train_len, train_y, n_genres, params["batch_size"], seed, row_weights)
    monitor = params["monitor"]
    stopping = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min" if monitor == "val_loss" else "max",
        patience=params["patience"], restore_best_weights=True, verbose=1,
    )
    history = training_model(classifier, params, params["epochs"] * len(train_batches)).fit(
        train_batches, validation_data=val_batches, epochs=params["epochs"],
        callbacks=[ValidationMacroF1(classifier, val_batches), stopping, *callbacks], verbose=2,
    )
    return classifier, history.history


def fit_members(params: dict, word_vectors, n_words: int, n_genres: int, train_set, val_batches,
                callbacks=(), extra=None, role: str = "member"):
    """train.members classifiers (seeds seed, seed + 1000, ...); returns them, each one's
    validation probabilities at its kept epoch, the kept epochs and the epochs run."""
    classifiers, probabilities, best_epochs, epochs_run = [], [], [], 0
    for member in range(params["members"]):
        name = "classifier" if params["members"] == 1 else f"classifier_{member + 1}"
        print(f"{role} {member + 1} of {params['members']}")
        classifier, history = fit_classifier(
            params, params["seed"] + MEMBER_SEED_STEP * member, name, word_vectors, n_words, n_genres,
            train_set, val_batches, callbacks if member == 0 else (), extra,
        )
        monitored = np.array(history[params["monitor"]])
        best_epochs.append(int(monitored.argmin() if params["monitor"] == "val_loss" else monitored.argmax()) + 1)
        epochs_run += len(monitored)
        classifiers.append(classifier)
        probabilities.append(predicted_probabilities(classifier, val_batches))
    return classifiers, np.mean(probabilities, axis=0), best_epochs, epochs_run


def initial_vectors(params: dict, vocabulary: list[str], corpus_vectors=None):
    """The embedding's starting matrix for train.embedding (None: Keras' random one)."""
    if params["embedding"] == "random":
        return None
    if params["embedding"] == "glove":
        matrix, found = glove.vectors(vocabulary, RESERVED, params["seed"])
    else:
        matrix, found = embedding_matrix(vocabulary, RESERVED, *corpus_vectors, params["seed"])
    print(f"{params['embedding']} vectors for {found} of {len(vocabulary)} words")
    return matrix


def soft_labels(classifiers, temperature: float, corpus_set, n_genres: int, threshold: float):
    """The teacher's calibrated probabilities for the corpus rows whose top one reaches
    `threshold`: (word ids, lengths, probabilities) of those rows."""
    corpus_x, corpus_len = corpus_set
    batches = LengthBatches(corpus_x, corpus_len, np.zeros(len(corpus_x), np.int32), n_genres, TEACHER_BATCH)
    probabilities = with_temperature(
        np.mean([predicted_probabilities(c, batches) for c in classifiers], axis=0), temperature
    ).astype(np.float32)
    kept = probabilities.max(axis=1) >= threshold
    print(f"teacher: {kept.sum()} of {len(kept)} corpus texts at top probability >= {threshold}")
    return corpus_x[kept], corpus_len[kept], probabilities[kept]


def train(params: dict, vocabulary: list[str], genres: list[str], train_set, val_set, stopwords,
          with_title: bool = False, callbacks=(), corpus_vectors=None, corpus_set=None) -> tuple[keras.Model, dict]:
    """Fit train.members classifiers and a temperature; return the text model (raw title and
    plot in) and the validation figures of the averaged, kept epochs.

    `train_set` and `val_set` are (padded word ids, lengths, labels) as
    vocabulary.read_sequences gives them.  `callbacks` (DVCLive's) follow the
    first member of the saved model.  `corpus_vectors` (words, matrix) serve
    train.embedding=corpus.  With train.self_training_weight > 0 those
    classifiers are the teacher: they label `corpus_set` (padded word ids,
    lengths), and as many students learn from the labelled rows and those, and
    become the model.
    """
    check_params(params)
    runtime.configure(params["arithmetic"])
    tf.config.experimental.enable_op_determinism()
    word_vectors = initial_vectors(params, vocabulary, corpus_vectors)
    val_batches = LengthBatches(*val_set, len(genres), params["batch_size"])
    sizes = (word_vectors, len(vocabulary) + RESERVED, len(genres), train_set, val_batches)
    student = params["self_training_weight"] > 0
    classifiers, averaged, best_epochs, epochs_run = fit_members(
        params, *sizes, () if student else callbacks, role="teacher" if student else "member"
    )
    labels = val_batches.labels
    temperature = fit_temperature(averaged, labels)
    names = np.array(genres)
    if student:
        teacher = score(names[labels].tolist(), names[averaged.argmax(axis=1)].tolist(), genres)
        print(f"teacher on validation: accuracy {teacher['accuracy']}, macro F1 {teacher['macro_f1']}")
        corpus = soft_labels(classifiers, temperature, corpus_set, len(genres), params["self_training_threshold"])
        classifiers, averaged, best_epochs, epochs_run = fit_members(
            params, *sizes, callbacks, extra=(*corpus, params["self_training_weight"]), role="student"
        )
        temperature = fit_temperature(averaged, labels)

    # The averaged probabilities of the kept epochs, on the validation split: the figures
    # to tune by, and the temperature that makes them honest (argmax, so scores, unchanged).
    validation = score(names[labels].tolist(), names[averaged.argmax(axis=1)].tolist(), genres)
    del validation["per_genre"]
    validation["best_epoch"] = round(float(np.mean(best_epochs)), 1) if len(best_epochs) > 1 else best_epochs[0]
    validation["epochs_run"] = epochs_run
    validation["temperature"] = temperature
    validation["mean_top1_raw"] = round(float(averaged.max(axis=1).mean()), 4)
    validation["mean_top1"] = round(float(with_temperature(averaged, temperature).max(axis=1).mean()), 4)
    text_model = build_text_model(
        classifiers, vocabulary, stopwords, genres, train_set[0].shape[1], with_title, temperature
    )
    return text_model, validation
