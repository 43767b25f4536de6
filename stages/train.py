"""Stage `train`: fit the LSTM on the training split, stop early on the validation split.

Batches group texts of similar length and are cut to their longest text, so the
LSTM does not step through padding (plots are ~58 words; max_len only caps them).
The saved model takes raw text: see stages/model.py.
"""

import json
import shutil
from pathlib import Path

import numpy as np

from stages.clean import load_stopwords
from stages.common import Param, load_params, run
from stages.tokenize import OUT_DIR as TOKENIZED, RESERVED, read_sequences

PARAMS = {
    "epochs": Param(int, low=1),
    "batch_size": Param(int, low=1),
    "embedding_dim": Param(int, low=1),
    "lstm_units": Param(int, low=1),
    "dropout": Param(float, low=0, high=1),
    "learning_rate": Param(float, low=0, exclusive=True),
    "patience": Param(int, low=1),
    "seed": Param(int, low=0),
}
MODEL_FILE = Path("models/movie_genre_classification_model.keras")
LOG_DIR = Path("metrics/training")
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


def make_batches(matrix, lengths, labels, n_genres, batch_size, seed=None):
    """A Keras PyDataset of (word ids cut to the batch's longest text, one-hot genres)."""
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
            return matrix[rows, :width], keras.utils.to_categorical(labels[rows], n_genres)

        def on_epoch_end(self):
            self.epoch += 1
            self.batches = self._order()

    return LengthBatches()


def main() -> None:
    params = load_params("train", PARAMS)
    import keras
    import tensorflow as tf
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from stages.model import build_classifier, build_text_model, save_model, training_model

    keras.utils.set_random_seed(params["seed"])
    tf.config.experimental.enable_op_determinism()

    vocabulary = (TOKENIZED / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    genres = json.loads((TOKENIZED / "genres.json").read_text(encoding="utf-8"))
    train_x, train_len, train_y = read_sequences(TOKENIZED / "train.parquet")
    val_x, val_len, val_y = read_sequences(TOKENIZED / "val.parquet")

    classifier = build_classifier(len(vocabulary) + RESERVED, len(genres), params)
    classifier.summary()
    train_batches = make_batches(train_x, train_len, train_y, len(genres), params["batch_size"], params["seed"])
    val_batches = make_batches(val_x, val_len, val_y, len(genres), params["batch_size"])

    # DVCLive writes as it goes; it writes beside the final folder, which
    # replaces the old one only once training has finished.
    partial_log = LOG_DIR.with_name(".partial-" + LOG_DIR.name)
    shutil.rmtree(partial_log, ignore_errors=True)
    live = Live(str(partial_log), save_dvc_exp=False, dvcyaml=None)
    training_model(classifier, params).fit(
        train_batches,
        validation_data=val_batches,
        epochs=params["epochs"],
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=params["patience"], restore_best_weights=True, verbose=1
            ),
            DVCLiveCallback(live=live),
        ],
        verbose=2,
    )
    text_model = build_text_model(classifier, vocabulary, load_stopwords(), genres, train_x.shape[1])
    save_model(text_model, MODEL_FILE)
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    partial_log.rename(LOG_DIR)
    print(f"saved {MODEL_FILE}")


if __name__ == "__main__":
    run(main)
