"""Training: every choice made on out-of-fold predictions over all the training rows, then
the saved model fitted on every row.

1. fit_classifiers: for each fold (tokenize.folds), train.members classifiers train on
   the other folds and stop early on it; each predicts the fold it did not see. The
   final fit's members train on every row for refit_epochs() epochs (the folds' steps),
   starting beside the last folds once those finished fix that count (final_epochs()).
2. fit_wide_paths: the same for the wide path (modeling/wide.py), and its final fit on
   every row at final_wide_params() (the folds' weight per row); in this process, while
   a core is free of trainings.
3. calibration.fit_scales pools the two paths' out-of-fold predictions by their
   likelihood: softmax(a log p + c s), the blend and the calibration in one; assembled
   with the final fits into the text model that is saved.

`train()` takes arrays and params and returns the text model and its out-of-fold
figures; stages/train.py does the reading and writing around it. Each classifier
trains in a worker process (modeling/members.py), one worker per core.
"""

import functools
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from movie_genre import glove, runtime
from movie_genre.calibration import calibration_figures, fit_scales, log_probabilities, pooled, scales_loss
from movie_genre.errors import PipelineError
from movie_genre.modeling.batching import LengthBatches, class_weights
from movie_genre.modeling.build import build_classifier, build_text_model, learned_ids, learned_rows, saved_weights
from movie_genre.modeling.members import report_epoch, run_members
from movie_genre.modeling.optimizers import training_model
from movie_genre.modeling.pretrain import start_from_encoder
from movie_genre.modeling.saving import traced_forward
from movie_genre.modeling.schema import check_params
from movie_genre.modeling.wide import fit_wide
from movie_genre.pretraining import EMBEDDING
from movie_genre.scoring import score
from movie_genre.vocabulary import RESERVED, embedding_matrix

MEMBER_SEED_STEP = 1000  # member i trains with seed + 1000 i: one member is the plain seed
FOLD_SEED_STEP = 1  # fold f's member i: seed + 1000 i + (f + 1); the final fit has no offset
# The final fit may start before the last folds end, training to the most epochs they may
# ask for and keeping the weights of each count they may ask for: at most this many
# epochs thrown away, on a core that would otherwise wait for the last fold. The same
# weights as starting later: an epoch's batches and updates do not depend on how many
# follow (under lr_schedule: constant).
AHEAD_EPOCHS = 6


@dataclass(frozen=True)
class Rows:
    """The training rows as tokenize wrote them: padded word ids, lengths, labels, each
    row's fold (vocabulary.NEVER_HELD: in every fit), and (for the wide path) cleaned texts."""

    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    texts: list | None = None

    @property
    def n_folds(self) -> int:
        return int(self.folds.max()) + 1

    @property
    def fit_share(self) -> float:
        """The share of the rows a fold's fit trains on, averaged over the folds."""
        return float(np.mean([(self.folds != fold).mean() for fold in range(self.n_folds)]))

    def part(self, rows: np.ndarray) -> tuple:
        return self.ids[rows], self.lengths[rows], self.labels[rows]


@dataclass(frozen=True)
class Task:
    """One classifier to train: on every fold but `fold` (stopping early on it), or with fold
    None on every row (the final fit)."""

    member: int
    fold: int | None = None

    def seed(self, params: dict) -> int:
        offset = 0 if self.fold is None else FOLD_SEED_STEP * (self.fold + 1)
        return params["seed"] + MEMBER_SEED_STEP * self.member + offset

    def describe(self, params: dict, n_folds: int) -> str:
        where = "final fit" if self.fold is None else f"fold {self.fold + 1} of {n_folds}"
        return where + (f", member {self.member + 1}" if params["members"] > 1 else "")


@dataclass
class FoldPredictions:
    """Each held row's out-of-fold probabilities (members averaged), and per fit (fold by fold,
    member by member) its kept epoch, its held rows' probabilities after every epoch and
    its weights; and the epochs run in all."""

    probabilities: np.ndarray
    kept_epochs: list[int]
    epochs_run: int
    per_epoch: list
    weights: list


def predicted_probabilities(classifier: keras.Model, batches: LengthBatches) -> np.ndarray:
    """The classifier's probabilities for each row of `batches`, in the rows' own order; its
    forward pass traced once for any batch shape (Keras' predict, the same numbers, traces
    more and goes through tf.data on each call: it cost more than the held fold's arithmetic)."""
    forward = traced_forward(classifier, tf.TensorSpec([None, None], tf.as_dtype(batches.matrix.dtype)))
    probabilities = np.empty((len(batches.labels), batches.n_genres), dtype=np.float32)
    probabilities[batches.rows()] = np.concatenate([forward(ids).numpy() for ids in batches.inputs()])
    return probabilities


class ReportEpochs(keras.callbacks.Callback):
    """In a training's process: each epoch's logs to the parent, for its progress line."""

    def __init__(self, task: int):
        super().__init__()
        self.task = task

    def on_epoch_end(self, epoch, logs=None):
        report_epoch(self.task, epoch, logs)


class Snapshots(keras.callbacks.Callback):
    """The classifier's weights after each epoch from `first` (counted from 1) on."""

    def __init__(self, classifier: keras.Model, first: int):
        super().__init__()
        self.classifier, self.first, self.weights = classifier, first, {}

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.first:
            self.weights[epoch + 1] = saved_weights(self.classifier)


class HeldScores(keras.callbacks.Callback):
    """Scores the held fold once an epoch, from one pass over it: val_loss (the training
    loss's cross-entropy, label smoothing included, unweighted), val_accuracy and
    val_macro_f1, for early stopping and the curves; keeps each epoch's probabilities."""

    def __init__(self, classifier: keras.Model, batches: LengthBatches, label_smoothing: float):
        super().__init__()
        self.classifier, self.batches, self.label_smoothing = classifier, batches, label_smoothing
        self.per_epoch = []

    def on_epoch_end(self, epoch, logs=None):
        from sklearn.metrics import f1_score

        probabilities = predicted_probabilities(self.classifier, self.batches)
        self.per_epoch.append(probabilities)
        probabilities = probabilities.astype(np.float64)
        labels, n_genres = self.batches.labels, self.batches.n_genres
        targets = np.eye(n_genres)[labels] * (1 - self.label_smoothing) + self.label_smoothing / n_genres
        clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)  # as Keras clips probabilities
        predicted = probabilities.argmax(axis=1)
        logs["val_accuracy"] = float((predicted == labels).mean())
        logs["val_loss"] = float(-(targets * np.log(clipped)).sum(axis=1).mean())
        logs["val_macro_f1"] = f1_score(labels, predicted, labels=range(n_genres), average="macro", zero_division=0)


def fit_classifier(params: dict, seed: int, name: str, word_vectors, n_words: int, n_genres: int,
                   train_set, held_batches: LengthBatches | None = None, epochs: int | None = None,
                   callbacks=(), encoder=None, keep_from: int | None = None):
    """Train with `seed`: until the held rows stop improving (their best epoch's weights kept),
    or with no held rows for `epochs` epochs. Returns the classifier and the history (its
    "kept_epoch" from 1, and under "per_epoch" the held rows' probabilities after each epoch;
    with `keep_from`, under "weights" the weights after each epoch from that one on).

    `encoder` (train.encoder: pretrained): the pretrain stage's weights by path.
    """
    keras.utils.set_random_seed(seed)
    train_x, train_len, train_y = train_set
    row_weights = class_weights(train_y, n_genres, params["class_weight_power"])[train_y]
    classifier = build_classifier(n_words, n_genres, params, word_vectors, learned_ids(train_x), name=name)
    if encoder is not None:
        start_from_encoder(classifier, encoder, "the pretrained encoder")
    train_batches = LengthBatches(train_x, train_len, train_y, n_genres, params["batch_size"], seed, row_weights)
    epochs = params["epochs"] if held_batches is not None else epochs
    extra = []
    if held_batches is not None:
        monitor = params["monitor"]
        held = HeldScores(classifier, held_batches, params["label_smoothing"])
        extra = [held, keras.callbacks.EarlyStopping(
            monitor=monitor, mode="min" if monitor == "val_loss" else "max",
            patience=params["patience"], restore_best_weights=True, verbose=0,
        )]
    elif keep_from is not None:
        extra = [Snapshots(classifier, keep_from)]
    history = training_model(classifier, params, epochs * len(train_batches)).fit(
        train_batches, epochs=epochs, callbacks=[*extra, *callbacks], verbose=0,
    ).history
    history["kept_epoch"] = kept_epoch(params, history) if held_batches is not None else epochs
    history["stopped_early"] = held_batches is not None
    history["per_epoch"] = extra[0].per_epoch if held_batches is not None else []
    if keep_from is not None:
        history["weights"] = extra[0].weights
    return classifier, history


def kept_epoch(params: dict, history: dict) -> int:
    """The epoch (from 1) whose weights early stopping kept."""
    monitored = np.array(history[params["monitor"]])
    return int(monitored.argmin() if params["monitor"] == "val_loss" else monitored.argmax()) + 1


def member_name(params: dict, member: int) -> str:
    return "classifier" if params["members"] == 1 else f"classifier_{member + 1}"


def _train_task(index: int, first: int | None = None, last: int | None = None, *, tasks: list[Task],
                params: dict, word_vectors, n_words: int, n_genres: int, rows: Rows, encoder):
    """One classifier, in a worker process: its weights (in the final fit, by epoch from
    `first` to `last`), its held rows' probabilities (None in the final fit) and its history."""
    tf.config.experimental.enable_op_determinism()
    task = tasks[index]
    describe = (params, task.seed(params), member_name(params, task.member), word_vectors, n_words, n_genres)
    if task.fold is None:
        _, history = fit_classifier(*describe, rows.part(np.arange(len(rows.labels))), epochs=last,
                                    callbacks=[ReportEpochs(index)], encoder=encoder, keep_from=first)
        return history.pop("weights"), None, history
    held_batches = LengthBatches(*rows.part(np.flatnonzero(rows.folds == task.fold)), n_genres, params["batch_size"])
    classifier, history = fit_classifier(*describe, rows.part(np.flatnonzero(rows.folds != task.fold)),
                                         held_batches, callbacks=[ReportEpochs(index)], encoder=encoder)
    return saved_weights(classifier), predicted_probabilities(classifier, held_batches), history


@dataclass
class Fits:
    """The folds' out-of-fold results, and the final fit's epochs and weights (member by
    member); `final_ran`: the epochs it trained, more than `final_epochs` when it started
    before the last folds ended."""

    folds: FoldPredictions
    final_epochs: int
    final_weights: list
    final_ran: int


def fit_classifiers(params: dict, word_vectors, n_words: int, n_genres: int, rows: Rows, log_epoch=None,
                    encoder=None, when_idle=None, workers=None) -> Fits:
    """train.members classifiers per fold, each trained on the other folds and stopped early
    on its own, and the final fit's on every row, on `workers` (members.Workers; by default
    its own). `log_epoch(logs)` gets the first fold's first member's epochs; `when_idle()`
    runs once, when a core is first free of them."""
    fold_tasks = [Task(member, fold) for fold in range(rows.n_folds) for member in range(params["members"])]
    tasks = fold_tasks + [Task(member) for member in range(params["members"])]

    def start(index: int, finished: dict):
        if tasks[index].fold is not None:
            return ()
        kept = [finished[i][2]["kept_epoch"] for i in range(len(fold_tasks)) if i in finished]
        return final_epochs(params, kept, len(fold_tasks) - len(kept), rows.fit_share)

    train_task = functools.partial(_train_task, tasks=tasks, params=params, word_vectors=word_vectors,
                                   n_words=n_words, n_genres=n_genres, rows=rows, encoder=encoder)
    names = [task.describe(params, rows.n_folds) for task in tasks]
    results = run_members(train_task, names, params["epochs"], params["arithmetic"], log_epoch, start, when_idle,
                          workers)

    fold_results, final_results = results[:len(fold_tasks)], results[len(fold_tasks):]
    probabilities = np.full((len(rows.labels), n_genres), np.nan, dtype=np.float32)
    for fold in range(rows.n_folds):
        held = np.flatnonzero(rows.folds == fold)
        probabilities[held] = np.mean([p for task, (_, p, _) in zip(fold_tasks, fold_results) if task.fold == fold],
                                      axis=0)
    histories = [history for _, _, history in fold_results]
    folds = FoldPredictions(probabilities, [h["kept_epoch"] for h in histories],
                            sum(len(h["loss"]) for h in histories), [h["per_epoch"] for h in histories],
                            [weights for weights, _, _ in fold_results])
    epochs = refit_epochs(folds.kept_epochs, rows.fit_share)
    return Fits(folds, epochs, [snapshots[epochs] for snapshots, _, _ in final_results],
                max(len(history["loss"]) for _, _, history in final_results))


def final_epochs(params: dict, kept: list[int], unfinished: int, fit_share: float) -> tuple[int, int] | None:
    """The final fit's first and last epoch counts to keep, given the folds finished so far:
    refit_epochs() will fall between the unfinished folds all keeping their first epoch and
    all their last. None (wait for more folds) while that leaves over AHEAD_EPOCHS open, or
    any under a learning rate schedule set by the epoch count."""
    first = refit_epochs(kept + [1] * unfinished, fit_share)
    last = refit_epochs(kept + [params["epochs"]] * unfinished, fit_share)
    if first == last or (params["lr_schedule"] == "constant" and last - first <= AHEAD_EPOCHS):
        return first, last
    return None


def refit_epochs(kept_epochs: list[int], fit_share: float) -> int:
    """Epochs for the final fit on every row: as many optimizer steps as the folds' median
    kept epoch took on their share of the rows. The scales were fitted on the folds'
    members; more steps would sharpen the final one past them (docs/experiments.md)."""
    return max(1, int(np.floor(np.median(kept_epochs) * fit_share + 0.5)))


def final_wide_params(params: dict, fit_share: float) -> dict:
    """The wide path's params for the fit on every row. LinearSVC's C multiplies a sum of
    hinge losses over the rows, so on all rows C shrinks by the folds' share to weigh each
    row as the fold fits, which the scales were fitted on, did; softmax's loss is a mean."""
    if params["wide"] != "linear_svc":
        return params
    return {**params, "wide_C": params["wide_C"] * fit_share}


def final_classifiers(params: dict, word_vectors, n_words: int, n_genres: int, rows: Rows, weights: list) -> list:
    """The final fit's members, built with `weights` (member by member)."""
    classifiers = []
    for member, member_weights in enumerate(weights):
        classifier = build_classifier(n_words, n_genres, params, word_vectors, learned_rows(rows.ids),
                                      name=member_name(params, member))
        classifier.set_weights(member_weights)
        classifiers.append(classifier)
    return classifiers


def wide_scores(model: keras.Model, texts) -> np.ndarray:
    return model(tf.constant(np.asarray(texts, dtype=object))).numpy()


def fit_wide_folds(params: dict, n_genres: int, rows: Rows) -> np.ndarray:
    """The wide path's out-of-fold scores: per fold, fitted on the other folds (its n-grams
    and idf too) and applied to the fold."""
    scores = np.full((len(rows.labels), n_genres), np.nan, dtype=np.float32)
    texts = np.asarray(rows.texts, dtype=object)
    for fold in range(rows.n_folds):
        fit, held = np.flatnonzero(rows.folds != fold), np.flatnonzero(rows.folds == fold)
        model = fit_wide(params, texts[fit].tolist(), rows.labels[fit], n_genres)
        scores[held] = wide_scores(model, texts[held])
    return scores


def fit_wide_paths(params: dict, n_genres: int, rows: Rows) -> tuple[np.ndarray, keras.Model]:
    """The wide path's out-of-fold scores, and the wide model fitted on every row."""
    print(f"wide path ({params['wide']}): {rows.n_folds} fold fits and the final one")
    return fit_wide_folds(params, n_genres, rows), fit_wide(final_wide_params(params, rows.fit_share), rows.texts,
                                                            rows.labels, n_genres)


def figures(probabilities: np.ndarray, labels: np.ndarray, genres: list[str], prefix: str = "") -> dict:
    """accuracy, macro_f1 and weighted_f1 of the top genre, their keys prefixed."""
    names = np.array(genres)
    scores = score(names[labels].tolist(), names[probabilities.argmax(axis=1)].tolist(), genres)
    return {prefix + key: scores[key] for key in ("accuracy", "macro_f1", "weighted_f1")}


def out_of_fold_figures(member_log_p: np.ndarray, wide: np.ndarray | None, labels: np.ndarray, scales: list[float],
                        genres: list[str]) -> dict:
    """The pooled model's figures over the held rows, and what each path brings: each alone,
    its share of the pooled scores' spread, and the likelihood without it."""
    paths = [member_log_p] if wide is None else [member_log_p, wide]
    probabilities = pooled(paths, scales)
    result = figures(probabilities, labels, genres)
    result.update(calibration_figures(probabilities, labels))
    result["nll"] = round(scales_loss(paths, labels)(scales)[0], 4)
    if wide is not None:
        result.update(figures(member_log_p, labels, genres, "member_"))
        result.update(figures(wide, labels, genres, "wide_"))
        # Each path's share of the variance of the pooled scores around each row's mean
        spread = [float((((t * x) - (t * x).mean(axis=1, keepdims=True)) ** 2).sum()) for t, x in zip(scales, paths)]
        result["member_share"] = round(spread[0] / sum(spread), 4)
        result["wide_share"] = round(spread[1] / sum(spread), 4)
        for name, alone in (("nll_without_wide", member_log_p), ("nll_without_member", wide)):
            result[name] = round(scales_loss([alone], labels)(fit_scales([alone], labels))[0], 4)
    result["member_scale"] = scales[0]
    result["wide_scale"] = scales[1] if wide is not None else 0.0
    return result


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


def train(params: dict, vocabulary: list[str], genres: list[str], rows: Rows, stopwords, with_title: bool = False,
          log_epoch=None, corpus_vectors=None, encoder=None, workers=None) -> tuple[keras.Model, dict]:
    """Choose on the out-of-fold predictions, fit on every row; return the text model (raw
    title and plot in) and the out-of-fold figures (`val` in metrics.json).

    `rows.texts` must hold the rows' cleaned texts under a wide path (train.wide).
    `log_epoch(logs)` (DVCLive's) follows the first fold's first member, epoch by epoch.
    `corpus_vectors` (words, matrix) serve train.embedding=corpus; `encoder` (the pretrain
    stage's weights by path) train.encoder=pretrained. `workers` (members.Workers) train
    the classifiers, by default workers of its own.
    """
    check_params(params)
    runtime.configure(params["arithmetic"])
    tf.config.experimental.enable_op_determinism()
    word_vectors = initial_vectors(params, vocabulary, corpus_vectors, encoder)
    n_words, n_genres = len(vocabulary) + RESERVED, len(genres)
    wide_paths = []

    def fit_wide_when_idle():  # while a core is free of trainings
        if params["wide"] != "none":
            wide_paths.append(fit_wide_paths(params, n_genres, rows))

    fits = fit_classifiers(params, word_vectors, n_words, n_genres, rows, log_epoch, encoder, fit_wide_when_idle,
                           workers)
    folds, epochs = fits.folds, fits.final_epochs
    held = np.flatnonzero(rows.folds >= 0)
    labels = rows.labels[held]
    member_log_p = log_probabilities(folds.probabilities[held])
    wide, wide_held = None, None
    if wide_paths:
        [(wide_all, wide)] = wide_paths
        wide_held = wide_all[held].astype(np.float64)
    scales = fit_scales([member_log_p] if wide is None else [member_log_p, wide_held], labels)
    ahead = f" (the first {epochs} of {fits.final_ran}: it started before the last folds ended)"
    print(f"pooled as softmax({scales[0]} log p" + (f" + {scales[1]} s)" if wide is not None else ")")
          + f"; the final fit: {epochs} epochs on all {len(rows.labels)} rows"
          + (ahead if fits.final_ran > epochs else ""))
    classifiers = final_classifiers(params, word_vectors, n_words, n_genres, rows, fits.final_weights)

    validation = out_of_fold_figures(member_log_p, wide_held, labels, scales, genres)
    validation["rows"] = len(held)
    validation["folds"] = rows.n_folds
    validation["best_epoch"] = float(np.median(folds.kept_epochs))
    validation["final_epochs"] = epochs
    validation["epochs_run"] = folds.epochs_run + epochs * params["members"]
    text_model = build_text_model(classifiers, vocabulary, stopwords, genres, rows.ids.shape[1], with_title, wide,
                                  (scales[0], scales[1] if wide is not None else 0.0))
    return text_model, validation
