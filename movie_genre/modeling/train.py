"""Training: classifiers fitted on the training split, stopped early on the validation split,
averaged when there are several (train.members), and calibrated on the same split.

`train()` takes arrays and params and returns the text model and its validation
figures; stages/train.py does the reading and writing around it. Each member
trains in a process of its own (started with spawn, one thread, the portable
arithmetic), as many at once as there are cores: a member's weights are the
same however many train beside it.
"""

import collections
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import keras
import numpy as np
import tensorflow as tf

from movie_genre import glove, runtime
from movie_genre.calibration import fit_temperature, with_temperature
from movie_genre.errors import PipelineError
from movie_genre.modeling.batching import LengthBatches, class_weights
from movie_genre.modeling.build import build_classifier, build_text_model
from movie_genre.modeling.optimizers import training_model
from movie_genre.modeling.pretrain import start_from_encoder
from movie_genre.modeling.schema import check_params
from movie_genre.pretraining import EMBEDDING, HEAD
from movie_genre.scoring import score
from movie_genre.vocabulary import RESERVED, embedding_matrix

MEMBER_SEED_STEP = 1000  # member i trains with seed + 1000 i: one member is the plain seed
TEACHER_BATCH = 512  # rows per batch when the teacher labels the corpus (inference only)
# Members trained at once; by default as many as this process may use cores. The result
# does not depend on it, so it is not a param (a param would invalidate DVC's cache).
JOBS_VARIABLE = "MOVIE_GENRE_JOBS"


def predicted_probabilities(classifier: keras.Model, batches: LengthBatches) -> np.ndarray:
    """The classifier's probabilities for each row of `batches`, in the rows' own order."""
    probabilities = np.empty((len(batches.labels), batches.n_genres), dtype=np.float32)
    probabilities[batches.rows()] = classifier.predict(batches, verbose=0)
    return probabilities


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


class Snapshots(keras.callbacks.Callback):
    """train.ensemble: snapshots: the weights at the end of each learning-rate cycle."""

    def __init__(self, classifier: keras.Model, cycle_epochs: int):
        super().__init__()
        self.classifier, self.cycle_epochs, self.taken, self.epochs = classifier, cycle_epochs, [], []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.cycle_epochs == 0:
            self.taken.append(self.classifier.get_weights())
            self.epochs.append(epoch + 1)


class RecentWeights(keras.callbacks.Callback):
    """train.ensemble: swa: the weights at the end of each of the last `keep` epochs."""

    def __init__(self, classifier: keras.Model, keep: int):
        super().__init__()
        self.classifier, self.recent = classifier, collections.deque(maxlen=keep)

    def on_epoch_end(self, epoch, logs=None):
        self.recent.append((epoch + 1, self.classifier.get_weights()))

    def mean_up_to(self, last_epoch: int, epochs: int) -> list[np.ndarray]:
        kept = [weights for epoch, weights in self.recent if last_epoch - epochs < epoch <= last_epoch]
        return [np.mean(parts, axis=0, dtype=np.float64).astype(parts[0].dtype) for parts in zip(*kept)]


def fit_classifier(params: dict, seed: int, name: str, word_vectors, n_words: int, n_genres: int,
                   train_set, val_batches: LengthBatches, callbacks=(), extra=None, encoder=None):
    """Train with `seed`; returns the classifier, the weights of the classifiers this run gives
    and its history.

    One classifier (the kept epoch's weights, or with train.ensemble: swa their
    mean over the epochs up to it), or with train.ensemble: snapshots train.members
    of them, one from each cycle's end (no early stopping).  `extra` adds rows
    beyond the labelled ones: (word ids, lengths, genre probabilities, row
    weight), a teacher's soft labels for the corpus.  `encoder` (train.encoder:
    pretrained): {"weights": the pretrain stage's, "joint": (word ids, lengths,
    names) of the corpus texts, for train.joint_weight > 0}.
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
    trainer, loss = classifier, None
    if encoder is not None:
        start_from_encoder(classifier, encoder["weights"], "the pretrained encoder")
    if params["joint_weight"] > 0:  # the corpus texts teach their own names through a head of their own
        trainer, loss = joint_model(classifier, encoder["weights"], params["label_smoothing"])
        corpus_x, corpus_len, names = encoder["joint"]
        pick = np.sort(np.random.default_rng(seed).choice(len(corpus_x), min(len(train_x), len(corpus_x)), False))
        train_y = joint_targets(train_y, n_genres, names[pick])
        train_x = np.concatenate([train_x, corpus_x[pick, : train_x.shape[1]]])
        train_len = np.concatenate([train_len, corpus_len[pick]])
        row_weights = np.concatenate([row_weights, np.full(len(pick), params["joint_weight"])])
    train_batches = LengthBatches(train_x, train_len, train_y, n_genres, params["batch_size"], seed, row_weights)
    scores = ValidationScores(classifier, val_batches, params["label_smoothing"])
    epochs, ensemble = params["epochs"], params["ensemble"]
    if ensemble == "snapshots":
        epochs = params["members"] * params["cycle_epochs"]
        kept = [Snapshots(classifier, params["cycle_epochs"])]
    else:
        monitor = params["monitor"]
        kept = [keras.callbacks.EarlyStopping(
            monitor=monitor, mode="min" if monitor == "val_loss" else "max",
            patience=params["patience"], restore_best_weights=True, verbose=0,
        )]
        if ensemble == "swa":  # what early stopping may look back over, and the window before it
            kept.append(RecentWeights(classifier, params["patience"] + params["swa_epochs"]))
    history = training_model(trainer, params, epochs * len(train_batches), loss).fit(
        train_batches, epochs=epochs, callbacks=[scores, *kept, *callbacks], verbose=0,
    ).history
    if ensemble == "snapshots":
        history["kept_epochs"] = kept[0].epochs
        return classifier, kept[0].taken, history
    history["kept_epochs"] = [kept_epoch(params, history)]
    if ensemble == "swa":
        return classifier, [kept[1].mean_up_to(history["kept_epochs"][0], params["swa_epochs"])], history
    return classifier, [classifier.get_weights()], history


def joint_model(classifier: keras.Model, encoder: dict, label_smoothing: float = 0.0):
    """The classifier with a second head on its pooled features, the pretrained corpus-names head:
    its output is the genres' probabilities, then the names'; and the loss for it."""
    head_kernel, head_bias = encoder[HEAD + "/kernel"], encoder[HEAD + "/bias"]
    n_genres, n_names = classifier.output.shape[-1], head_kernel.shape[1]
    head = keras.layers.Dense(n_names, activation="sigmoid", name=HEAD)
    names = head(classifier.get_layer("dropout").output)
    head.set_weights([head_kernel, head_bias])
    both = keras.layers.Concatenate(name="genres_and_names")([classifier.output, names])
    model = keras.Model(classifier.inputs, both)

    def loss(targets, outputs):
        # targets: genre probabilities, names, and a last column that is 1 for a corpus text
        corpus = targets[:, -1]
        genre = keras.losses.categorical_crossentropy(targets[:, :n_genres], outputs[:, :n_genres],
                                                      label_smoothing=label_smoothing)
        name = keras.ops.mean(keras.ops.binary_crossentropy(targets[:, n_genres:-1], outputs[:, n_genres:]), axis=-1)
        return (1 - corpus) * genre + corpus * name

    return model, loss


def joint_targets(labels: np.ndarray, n_genres: int, names: np.ndarray) -> np.ndarray:
    """Rows of [genre one-hot, names, 0] for the labelled rows, then [0, names, 1] for the corpus texts."""
    labelled = np.zeros((len(labels), n_genres + names.shape[1] + 1), np.float32)
    labelled[np.arange(len(labels)), labels] = 1
    corpus = np.zeros((len(names), labelled.shape[1]), np.float32)
    corpus[:, n_genres:-1] = names
    corpus[:, -1] = 1
    return np.concatenate([labelled, corpus])


def member_jobs(members: int) -> int:
    """How many members train at once: $MOVIE_GENRE_JOBS, or the usable cores; never more than members."""
    value = os.environ.get(JOBS_VARIABLE)
    if value is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    elif value.strip().isdigit() and int(value) >= 1:
        jobs = int(value)
    else:
        raise PipelineError(f"{JOBS_VARIABLE}={value!r}: give a whole number of members to train at once, 1 or more")
    return max(1, min(jobs, members))


def kept_epoch(params: dict, history: dict) -> int:
    """The epoch (from 1) whose weights early stopping kept."""
    monitored = np.array(history[params["monitor"]])
    return int(monitored.argmin() if params["monitor"] == "val_loss" else monitored.argmax()) + 1


def member_name(params: dict, member: int) -> str:
    return "classifier" if params["members"] == 1 else f"classifier_{member + 1}"


_events = None  # in a member's process: where its epochs are reported


def _start_member_process(arithmetic: str, events, alone: bool) -> None:
    global _events
    if sys.platform.startswith("linux"):  # killed with the stage, not left training alone
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    runtime.configure(arithmetic)
    if not alone:  # a core each; alone, the two directions of the LSTM may run side by side
        tf.config.threading.set_inter_op_parallelism_threads(1)
    _events = events


class _ReportEpochs(keras.callbacks.Callback):
    def __init__(self, member: int):
        super().__init__()
        self.member = member

    def on_epoch_end(self, epoch, logs=None):
        _events.put((self.member, epoch, {key: float(value) for key, value in (logs or {}).items()}))


def runs(params: dict) -> int:
    """Trainings the ensemble takes: one a member, or one for all the snapshots."""
    return 1 if params["ensemble"] == "snapshots" else params["members"]


def _train_member(run: int, params: dict, word_vectors, n_words: int, n_genres: int, train_set, val_set, extra,
                  encoder):
    """One training in its own process: the weights of the classifiers it gives, its history
    and each one's validation probabilities."""
    tf.config.experimental.enable_op_determinism()
    val_batches = LengthBatches(*val_set, n_genres, params["batch_size"])
    seed = params["seed"] + MEMBER_SEED_STEP * run
    classifier, taken, history = fit_classifier(params, seed, member_name(params, run), word_vectors, n_words,
                                                n_genres, train_set, val_batches, [_ReportEpochs(run)], extra,
                                                encoder)
    probabilities = []
    for weights in taken:
        classifier.set_weights(weights)
        probabilities.append(predicted_probabilities(classifier, val_batches))
    return taken, history, probabilities


class Progress:
    """One line per epoch of any member: which, how far, how long so far and still to go."""

    def __init__(self, role: str, members: int, max_epochs: int, jobs: int):
        self.role, self.members, self.max_epochs = role, members, max_epochs
        self.start, self.epochs_done, self.finished = time.monotonic(), 0, {}
        print(f"{role}s: {members}, {jobs} at once (one process and one thread each)", flush=True)

    def epoch(self, member: int, epoch: int, logs: dict) -> None:
        self.epochs_done += 1
        elapsed = time.monotonic() - self.start
        # Epochs still to come: finished members' mean for the others, or the most there can be
        expected = np.mean(list(self.finished.values())) if self.finished else self.max_epochs
        total = sum(self.finished.values()) + expected * (self.members - len(self.finished))
        left = max(total - self.epochs_done, 0) * elapsed / self.epochs_done
        figures = ", ".join(f"{key} {logs[key]:.4f}" for key in ("loss", "val_accuracy", "val_macro_f1") if key in logs)
        print(f"{self.role} {member + 1} of {self.members}, epoch {epoch + 1}: {figures}; "
              f"{_minutes(elapsed)} elapsed, {'about' if self.finished else 'at most'} {_minutes(left)} left",
              flush=True)

    def done(self, member: int, history: dict, kept: list[int]) -> None:
        self.finished[member] = len(history["loss"])
        print(f"{self.role} {member + 1} of {self.members}: stopped after {self.finished[member]} epochs, "
              f"kept epoch{'s' * (len(kept) > 1)} {', '.join(map(str, kept))}", flush=True)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s" if seconds >= 60 else f"{int(seconds)} s"


def fit_members(params: dict, word_vectors, n_words: int, n_genres: int, train_set, val_set,
                log_epoch=None, extra=None, role: str = "member", encoder=None):
    """train.members classifiers, from runs(params) trainings (seeds seed, seed + 1000, ...),
    each in a process of its own, member_jobs() at once; returns them, their validation
    probabilities averaged, the kept epochs and the epochs run. `log_epoch(logs)` gets the
    first training's epochs."""
    trainings = runs(params)
    jobs = member_jobs(trainings)
    snapshots = params["ensemble"] == "snapshots"
    progress = Progress("snapshot run" if snapshots else role, trainings,
                        params["members"] * params["cycle_epochs"] if snapshots else params["epochs"], jobs)
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_member_process,
                             initargs=(params["arithmetic"], events, jobs == 1), max_tasks_per_child=1) as pool:
        pending = {pool.submit(_train_member, run, params, word_vectors, n_words, n_genres, train_set,
                               val_set, extra, encoder): run for run in range(trainings)}
        results, received, reported = {}, [0] * trainings, set()
        while len(reported) < trainings:
            try:
                run, epoch, logs = events.get(timeout=0.2)
                received[run] += 1
                progress.epoch(run, epoch, logs)
                if run == 0 and log_epoch is not None:
                    log_epoch(logs)
            except queue.Empty:
                pass
            for future in [f for f in pending if f.done()]:
                results[pending.pop(future)] = future.result()  # a member's error is raised here
            # A training is done once its result is in and each of its epochs has been reported
            for run in sorted(set(results) - reported):
                history = results[run][1]
                if received[run] == len(history["loss"]):
                    progress.done(run, history, history["kept_epochs"])
                    reported.add(run)
    taken, probabilities, best_epochs, epochs_run = [], [], [], 0
    for run in range(trainings):
        weights, history, run_probabilities = results[run]
        taken += weights
        probabilities += run_probabilities
        best_epochs += history["kept_epochs"]
        epochs_run += len(history["loss"])
    classifiers = []
    for member, weights in enumerate(taken):
        classifier = build_classifier(n_words, n_genres, params, word_vectors, int(train_set[0].max()) + 1,
                                      name=member_name(params, member))
        classifier.set_weights(weights)
        classifiers.append(classifier)
    return classifiers, np.mean(probabilities, axis=0), best_epochs, epochs_run


def initial_vectors(params: dict, vocabulary: list[str], corpus_vectors=None, encoder=None):
    """The embedding's starting matrix for train.embedding (None: Keras' random one), or under
    train.encoder: pretrained the pretrained encoder's."""
    if params["encoder"] == "pretrained":
        matrix = encoder["weights"][EMBEDDING]
        if matrix.shape != (len(vocabulary) + RESERVED, params["embedding_dim"]):
            raise PipelineError(f"the pretrained encoder's embedding is {matrix.shape}, not for this vocabulary of "
                                f"{len(vocabulary)} words: run `dvc repro pretrain`")
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
          with_title: bool = False, log_epoch=None, corpus_vectors=None, corpus_set=None,
          encoder=None) -> tuple[keras.Model, dict]:
    """Fit train.members classifiers and a temperature; return the text model (raw title and
    plot in) and the validation figures of the averaged, kept epochs.

    `train_set` and `val_set` are (padded word ids, lengths, labels) as
    vocabulary.read_sequences gives them.  `log_epoch(logs)` (DVCLive's) follows
    the first member of the saved model, epoch by epoch.  `corpus_vectors` (words, matrix) serve
    train.embedding=corpus.  With train.self_training_weight > 0 those
    classifiers are the teacher: they label `corpus_set` (padded word ids,
    lengths), and as many students learn from the labelled rows and those, and
    become the model.  `encoder` serves train.encoder=pretrained (see fit_classifier).
    """
    check_params(params)
    runtime.configure(params["arithmetic"])
    tf.config.experimental.enable_op_determinism()
    word_vectors = initial_vectors(params, vocabulary, corpus_vectors, encoder)
    sizes = (word_vectors, len(vocabulary) + RESERVED, len(genres), train_set, val_set)
    student = params["self_training_weight"] > 0
    classifiers, averaged, best_epochs, epochs_run = fit_members(
        params, *sizes, None if student else log_epoch, role="teacher" if student else "member", encoder=encoder
    )
    labels = val_set[2]
    temperature = fit_temperature(averaged, labels)
    names = np.array(genres)
    if student:
        teacher = score(names[labels].tolist(), names[averaged.argmax(axis=1)].tolist(), genres)
        print(f"teacher on validation: accuracy {teacher['accuracy']}, macro F1 {teacher['macro_f1']}")
        corpus = soft_labels(classifiers, temperature, corpus_set, len(genres), params["self_training_threshold"])
        classifiers, averaged, best_epochs, epochs_run = fit_members(
            params, *sizes, log_epoch, extra=(*corpus, params["self_training_weight"]), role="student",
            encoder=encoder,
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
