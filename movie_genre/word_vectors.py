"""Word vectors from the outside corpus: positive PMI of co-occurrence counts, factored by SVD
(Levy, Goldberg and Dagan 2015: as good as word2vec at this size, and one pass).

No TensorFlow and no training loop: counts are integers, so exact; the floating
part is one log per pair and a seeded randomized SVD, and the result is rounded
to a grid far coarser than any difference of a last bit between CPUs' kernels
(tests run it with NumPy's and OpenBLAS's AVX2 paths and compare bytes).
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_genre.params import Param
from movie_genre.vocabulary import RESERVED, build_vocabulary, split_words

PARAMS = {
    "words": Param(int, low=1),
    "dim": Param(int, low=1),
    "window": Param(int, low=1),
    "seed": Param(int, low=0),
}
CONTEXT_SMOOTHING = 0.75  # rare contexts' probability raised, as word2vec's negative sampling does
SCALE = 0.7  # entries' standard deviation: GloVe 6B 50d's, the scale the LSTM was tuned at
GRID = 2.0**-10  # rounding step of the saved vectors


def cooccurrences(texts, words: list[str], window: int):
    """Symmetric counts of word pairs at most `window` words apart within one text, as a
    sparse (len(words), len(words)) int64 matrix; words outside `words` hold their place."""
    from scipy import sparse

    split = split_words(texts)
    ids = pc.fill_null(pc.index_in(split.flatten(), value_set=pa.array(words, pa.string())), -1).to_numpy()
    lengths = pc.list_value_length(split).to_numpy(zero_copy_only=False)
    text_of = np.repeat(np.arange(len(lengths)), lengths)
    rows, cols = [], []
    for distance in range(1, window + 1):
        a, b = ids[:-distance], ids[distance:]
        pair = (text_of[:-distance] == text_of[distance:]) & (a >= 0) & (b >= 0)
        rows.append(a[pair])
        cols.append(b[pair])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    shape = (len(words), len(words))
    counts = sparse.coo_matrix((np.ones(len(rows), np.int64), (rows, cols)), shape=shape).tocsr()
    return (counts + counts.T).tocsr()


def positive_pmi(counts):
    """max(0, log P(w, c) / (P(w) P(c))), the context probabilities smoothed, as a sparse float64 matrix."""
    counts = counts.tocsr().astype(np.float64)
    counts.sum_duplicates()
    total = counts.sum()
    word_p = np.asarray(counts.sum(axis=1)).ravel() / total
    smoothed = np.asarray(counts.sum(axis=0)).ravel() ** CONTEXT_SMOOTHING
    context_p = smoothed / smoothed.sum()
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    pmi = np.log(counts.data / total) - np.log(word_p[rows]) - np.log(context_p[counts.indices])
    matrix = counts.copy()
    matrix.data = np.maximum(pmi, 0.0)
    matrix.eliminate_zeros()
    return matrix


def factor(matrix, dim: int, seed: int) -> np.ndarray:
    """U sqrt(S) of the matrix's top `dim` singular vectors, each vector's sign fixed (largest
    entry positive), scaled to SCALE and rounded to GRID."""
    from sklearn.utils.extmath import randomized_svd

    u, s, _ = randomized_svd(matrix, dim, n_oversamples=20, n_iter=7, random_state=seed)
    vectors = u * np.sqrt(s)
    largest = np.abs(vectors).argmax(axis=0)
    vectors *= np.sign(vectors[largest, np.arange(dim)])
    vectors *= SCALE / vectors.std()
    return (np.round(vectors / GRID) * GRID).astype(np.float32)


def train_vectors(texts, words: int, dim: int, window: int, seed: int) -> pa.Table:
    """(word, vector) for the corpus's `words` most frequent words, most frequent first."""
    vocabulary = build_vocabulary(texts, words + RESERVED)
    if len(vocabulary) <= dim:
        raise ValueError(f"{len(vocabulary)} distinct words cannot give {dim}-wide vectors")
    vectors = factor(positive_pmi(cooccurrences(texts, vocabulary, window)), dim, seed)
    flat = pa.array(vectors.ravel(), pa.float32())
    return pa.table({"word": pa.array(vocabulary, pa.string()),
                     "vector": pa.FixedSizeListArray.from_arrays(flat, dim)})


def read_vectors(path) -> tuple[pa.Array, np.ndarray]:
    """(words, (words, dim) float32 matrix) from a file train_vectors' table was written to."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    vector = table["vector"].combine_chunks()
    return table["word"].combine_chunks(), vector.flatten().to_numpy().reshape(len(vector), vector.type.list_size)
