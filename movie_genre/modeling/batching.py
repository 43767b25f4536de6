"""Training batches: rows of similar length together, each batch cut to its longest text.

Plots average ~58 words after cleaning, so a batch padded to max_len would be
mostly padding the LSTM steps through; masking makes padding inert, so the cut
changes the time, not the model.
"""

import keras
import numpy as np

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


class LengthBatches(keras.utils.PyDataset):
    """(word ids cut to the batch's longest text, genre probabilities[, row weights]) per batch.

    With a seed the order changes every epoch (the same for the same seed);
    without, one pass in length order, for evaluation.
    """

    def __init__(self, matrix, lengths, labels, n_genres, batch_size, seed=None, row_weights=None):
        super().__init__()
        self.matrix, self.lengths, self.labels = matrix, lengths, labels
        self.n_genres, self.batch_size, self.seed, self.row_weights = n_genres, batch_size, seed, row_weights
        self.epoch = 0
        self.batches = self._order()

    def _order(self):
        rng = None if self.seed is None else np.random.default_rng([self.seed, self.epoch])
        return batch_order(self.lengths, self.batch_size, rng)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batch_of(self.batches[index])

    def batch_of(self, rows: np.ndarray):
        """The batch of these rows, cut to their longest text."""
        labels = self.labels[rows]  # genre ids, or (rows, genres) probabilities: a teacher's soft labels
        targets = labels if labels.ndim == 2 else keras.utils.to_categorical(labels, self.n_genres)
        batch = (self.ids(rows), targets)
        return batch if self.row_weights is None else batch + (self.row_weights[rows],)

    def ids(self, rows: np.ndarray) -> np.ndarray:
        """These rows' word ids, cut to their longest text."""
        return self.matrix[rows, :max(1, min(self.matrix.shape[1], int(self.lengths[rows].max())))]

    def inputs(self) -> list[np.ndarray]:
        """Each batch's word ids, in order: the model's inputs without the targets."""
        return [self.ids(rows) for rows in self.batches]

    def on_epoch_end(self):
        self.epoch += 1
        self.batches = self._order()

    def rows(self) -> np.ndarray:
        """The row indices in the order the batches hold them."""
        return np.concatenate(self.batches)


def class_weights(labels: np.ndarray, n_genres: int, power: float) -> np.ndarray:
    """Weight of each genre: (rows / (genres x genre's rows)) ** power, mean 1 over the rows.

    power 0 weighs every row alike; 1 is scikit-learn's "balanced"; in between softens it.
    """
    counts = np.bincount(labels, minlength=n_genres).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (n_genres * np.maximum(counts, 1)), 0.0) ** power
    return weights / weights[labels].mean()
