"""Word vectors from the corpus: exact counts, positive PMI, a rounded and sign-fixed factoring."""

import numpy as np
import pyarrow as pa
import pytest

from movie_genre import word_vectors as wv
from movie_genre.vocabulary import embedding_matrix


def test_pairs_are_counted_within_the_window_and_one_text_both_ways():
    words = ["alien", "ship", "crew"]
    counts = wv.cooccurrences(["alien ship crew", "crew unknown alien", "ship"], words, window=1).toarray()
    # alien-ship and ship-crew once each; "unknown" holds its place, so crew-alien are 2 apart
    assert counts.tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    counts = wv.cooccurrences(["alien ship crew", "crew unknown alien", "ship"], words, window=2).toarray()
    assert counts.tolist() == [[0, 1, 2], [1, 0, 1], [2, 1, 0]]
    assert counts.dtype == np.int64


def test_positive_pmi_matches_the_formula_and_drops_negatives():
    counts = np.array([[0, 4, 1], [4, 0, 1], [1, 1, 10]])
    from scipy import sparse

    got = wv.positive_pmi(sparse.csr_matrix(counts)).toarray()
    total = counts.sum()
    context = counts.sum(axis=0) ** wv.CONTEXT_SMOOTHING
    with np.errstate(divide="ignore"):
        pmi = np.log(counts / total) - np.log(counts.sum(axis=1, keepdims=True) / total) - np.log(context / context.sum())
    assert np.allclose(got, np.where(counts > 0, np.maximum(pmi, 0), 0))
    assert (got >= 0).all() and got[0, 2] == 0 < got[0, 1]


def test_vectors_lie_on_the_grid_at_the_set_scale_with_fixed_signs_and_repeat_exactly():
    rng = np.random.default_rng(0)
    matrix = rng.random((60, 60)) * (rng.random((60, 60)) < 0.2)
    first = wv.factor(matrix + matrix.T, 8, seed=3)
    assert first.dtype == np.float32 and first.shape == (60, 8)
    assert np.array_equal(first, np.round(first / wv.GRID) * wv.GRID)
    assert first.std() == pytest.approx(wv.SCALE, rel=0.01)
    largest = np.abs(first).argmax(axis=0)
    assert (first[largest, np.arange(8)] > 0).all()
    assert np.array_equal(first, wv.factor(matrix + matrix.T, 8, seed=3))


def test_words_used_alike_get_closer_vectors_than_words_used_apart():
    rng = np.random.default_rng(1)
    space = ["alien", "planet", "starship", "orbit", "galaxy"]
    farm = ["tractor", "harvest", "barn", "cattle", "meadow"]
    texts = [" ".join(rng.choice(topic, 8)) for topic in [space, farm] * 200]
    texts += ["rocket " + " ".join(rng.choice(space, 4)) for _ in range(50)]
    texts += ["plough " + " ".join(rng.choice(farm, 4)) for _ in range(50)]
    table = wv.train_vectors(pa.array(texts), words=20, dim=4, window=3, seed=0)
    words = table["word"].to_pylist()
    vectors = np.stack(table["vector"].to_numpy(zero_copy_only=False))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    rocket, plough, alien = (unit[words.index(w)] for w in ("rocket", "plough", "alien"))
    assert rocket @ alien > plough @ alien


def test_too_few_words_for_the_width_is_an_error():
    with pytest.raises(ValueError, match="3 distinct words cannot give 5-wide vectors"):
        wv.train_vectors(pa.array(["one two three"]), words=10, dim=5, window=2, seed=0)


def test_the_embedding_takes_known_words_rows_and_starts_the_rest_at_their_scale():
    words = pa.array(["hero", "villain", "castle"])
    table = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
    matrix, found = embedding_matrix(["castle", "zzz", "hero"], 2, words, table, seed=0)
    assert found == 2 and matrix.shape == (5, 2)
    assert (matrix[0] == 0).all()
    assert matrix[2].tolist() == [5.0, 6.0] and matrix[4].tolist() == [1.0, 2.0]
    assert np.array_equal(matrix, embedding_matrix(["castle", "zzz", "hero"], 2, words, table, seed=0)[0])
