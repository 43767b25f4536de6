"""The pinned GloVe vectors: words for the vocabulary, vectors for the embedding."""

import numpy as np

from movie_genre import glove


def test_frequent_words_are_what_cleaned_text_can_hold_less_the_known_ones():
    words = glove.frequent_words(200, known=["the", "film"])
    assert "of" in words and "said" in words
    assert "the" not in words and "film" not in words
    assert "," not in words and "'s" not in words and "1" not in words
    assert len(words) == len(set(words)) < 200
    assert glove.frequent_words(200, known=[])[:3] == ["the", "of", "to"]  # most frequent first


def test_vectors_follow_the_ids_with_zero_padding():
    vocabulary = ["king", "queen", "notaglovewordxyz"]
    matrix, found = glove.vectors(vocabulary, reserved=2, seed=0)
    assert matrix.shape == (5, glove.DIM) and matrix.dtype == np.float32
    assert found == 2
    assert not matrix[0].any()
    king, queen = glove.vectors(["king", "queen"], reserved=2, seed=1)[0][2:]
    assert np.array_equal(matrix[2], king)  # the same word gets GloVe's vector whatever the seed
    cosine = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    assert cosine(king, queen) > 0.6 > cosine(king, matrix[4])
    assert np.array_equal(matrix, glove.vectors(vocabulary, reserved=2, seed=0)[0])
