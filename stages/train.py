"""Stage `train`: fit the LSTM on the training split, stop early on the validation split.

Batches group texts of similar length and are cut to their longest text, so the
LSTM does not step through padding (plots are ~58 words; max_len only caps them).
The saved model takes raw text: see stages/model.py.
"""

import json
import shutil
from pathlib import Path

import numpy as np

from stages import clean, glove
from stages.common import Param, PipelineError, load_params, run, write_text
from stages.tokenize import OUT_DIR as TOKENIZED, RESERVED, read_sequences

PARAMS = {
    "epochs": Param(int, low=1),
    "batch_size": Param(int, low=1),
    "embedding": Param(str, choices=("random", "glove")),
    "embedding_dim": Param(int, low=1),
    "embedding_trainable": Param(bool),
    "bidirectional": Param(bool),
    "lstm_units": Param(int, low=1),
    "pooling": Param(str, choices=("last", "max", "mean", "max_mean", "attention")),
    "dropout": Param(float, low=0, high=1),
    "learning_rate": Param(float, low=0, exclusive=True),
    "lr_schedule": Param(str, choices=("constant", "cosine")),
    "class_weight_power": Param(float, low=0, high=1),
    "label_smoothing": Param(float, low=0, high=1),
    "monitor": Param(str, choices=("val_loss", "val_macro_f1")),
    "patience": Param(int, low=1),
    "seed": Param(int, low=0),
}
MODEL_FILE = Path("models/movie_genre_classification_model.keras")
LOG_DIR = Path("metrics/training")
VALIDATION_FILE = Path("metrics/validation.json")
BATCHES_PER_BUCKET = 20  # shuffle within this many batches' worth of rows, then sort by length


def batch_order(lengths: np.ndarray, batch_size: int, rng=None) -> list[np.ndarray]:
    """Row indices of each batch, rows of similar length together.

    With an rng: shuffle, sort by length within windows of BATCHES_PER_BUCKET
    batches, and shuffle the batches (different each epoch, same for the same
    seed).  Without: one pass in length order, for evaluation.
    """
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = rng.permutation(len(lengths))
    window = batch_size * BATCHES_PER_BUCKET
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def check_params(params: dict) -> None:
    if params["embedding"] == "glove" and params["embedding_dim"] != glove.DIM:
        raise PipelineError(
            f"params.yaml: 'train.embedding_dim' is {params['embedding_dim']}; with "
            f"train.embedding=glove it must be {glove.DIM}, the GloVe vectors' size"
        )


def class_weights(labels: np.ndarray, n_genres: int, power: float) -> np.ndarray:
    """Weight of each genre: (rows / (genres x genre's rows)) ** power, mean 1 over the rows.

    power 0 weighs every row alike; 1 is scikit-learn's "balanced"; in between softens it.
    """
    counts = np.bincount(labels, minlength=n_genres).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (n_genres * np.maximum(counts, 1)), 0.0) ** power
    return weights / weights[labels].mean()


def make_batches(matrix, lengths, labels, n_genres, batch_size, seed=None, row_weights=None):
    """A Keras PyDataset of (word ids cut to the batch's longest text, one-hot genres[, weights])."""
    import keras

    class LengthBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.batches = self._order()

        def _order(self):
            rng = None if seed is None else np.random.default_rng([seed, self.epoch])
            return batch_order(lengths, batch_size, rng)

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, index):
            rows = self.batches[index]
            width = max(1, min(matrix.shape[1], int(lengths[rows].max())))
            batch = (matrix[rows, :width], keras.utils.to_categorical(labels[rows], n_genres))
            return batch if row_weights is None else batch + (row_weights[rows],)

        def on_epoch_end(self):
            self.epoch += 1
            self.batches = self._order()

    return LengthBatches()


def main() -> None:
    params = load_params("train", PARAMS)
    check_params(params)
    with_title = load_params("clean", clean.PARAMS)["with_title"]  # the saved model must read the same text
    import keras
    import tensorflow as tf
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from sklearn.metrics import f1_score

    from stages.evaluate import score
    from stages.model import build_classifier, build_text_model, save_model, training_model

    keras.utils.set_random_seed(params["seed"])
    tf.config.experimental.enable_op_determinism()

    vocabulary = (TOKENIZED / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    genres = json.loads((TOKENIZED / "genres.json").read_text(encoding="utf-8"))
    train_x, train_len, train_y = read_sequences(TOKENIZED / "train.parquet")
    val_x, val_len, val_y = read_sequences(TOKENIZED / "val.parquet")

    word_vectors = None
    if params["embedding"] == "glove":
        word_vectors, found = glove.vectors(vocabulary, RESERVED, params["seed"])
        print(f"GloVe vectors for {found} of {len(vocabulary)} words")
    # Ids above the largest in the training rows never get a gradient: they stay fixed.
    classifier = build_classifier(len(vocabulary) + RESERVED, len(genres), params, word_vectors, int(train_x.max()) + 1)
    classifier.summary()
    weights = class_weights(train_y, len(genres), params["class_weight_power"])
    train_batches = make_batches(
        train_x, train_len, train_y, len(genres), params["batch_size"], params["seed"], weights[train_y]
    )
    val_batches = make_batches(val_x, val_len, val_y, len(genres), params["batch_size"])

    # DVCLive writes as it goes; it writes beside the final folder, which
    # replaces the old one only once training has finished.
    partial_log = LOG_DIR.with_name(".partial-" + LOG_DIR.name)
    shutil.rmtree(partial_log, ignore_errors=True)
    live = Live(str(partial_log), save_dvc_exp=False, dvcyaml=None)
    def val_predictions():
        """Predicted labels of the validation rows, in the rows' order."""
        predicted = np.empty(len(val_y), dtype=np.int64)
        predicted[np.concatenate(val_batches.batches)] = classifier.predict(val_batches, verbose=0).argmax(axis=1)
        return predicted

    class ValidationMacroF1(keras.callbacks.Callback):
        """Adds val_macro_f1 to each epoch's logs, for early stopping and the curves."""

        def on_epoch_end(self, epoch, logs=None):
            labels = range(len(genres))
            logs["val_macro_f1"] = f1_score(val_y, val_predictions(), labels=labels, average="macro", zero_division=0)

    monitor = params["monitor"]
    stopping = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min" if monitor == "val_loss" else "max",
        patience=params["patience"], restore_best_weights=True, verbose=1,
    )
    history = training_model(classifier, params, params["epochs"] * len(train_batches)).fit(
        train_batches,
        validation_data=val_batches,
        epochs=params["epochs"],
        callbacks=[ValidationMacroF1(), stopping, DVCLiveCallback(live=live)],
        verbose=2,
    )

    # The restored best weights, scored on the validation split: the figures to tune by.
    names = np.array(genres)
    validation = score(names[val_y].tolist(), names[val_predictions()].tolist(), genres)
    del validation["per_genre"]
    monitored = np.array(history.history[monitor])
    validation["best_epoch"] = int(monitored.argmin() if monitor == "val_loss" else monitored.argmax()) + 1
    validation["epochs_run"] = len(monitored)

    text_model = build_text_model(classifier, vocabulary, clean.load_stopwords(), genres, train_x.shape[1], with_title)
    save_model(text_model, MODEL_FILE)
    write_text(VALIDATION_FILE, json.dumps(validation, indent=2) + "\n")
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    partial_log.rename(LOG_DIR)
    print(f"validation: accuracy {validation['accuracy']}, macro F1 {validation['macro_f1']} "
          f"(best epoch {validation['best_epoch']}); saved {MODEL_FILE}")


if __name__ == "__main__":
    run(main)
