import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from movie_genre import files as common
from movie_genre.errors import PipelineError
from movie_genre.vocabulary import (
    NEVER_HELD,
    assign_folds,
    build_vocabulary,
    padded,
    read_folds,
    read_sequences,
    stratified_split,
    to_sequences,
    write_sequences,
)

TEXTS = ["cat sat mat", "cat dog", "dog cat bird", "bird"]


def test_vocabulary_by_count_then_alphabet_and_capped():
    assert build_vocabulary(TEXTS, vocab_size=100) == ["cat", "bird", "dog", "mat", "sat"]
    assert build_vocabulary(TEXTS, vocab_size=4) == ["cat", "bird"]  # 2 ids for padding and unknown


def test_sequences_are_padded_after_and_cut_after_max_len():
    sequences, lengths = to_sequences(["cat sat mat", "zebra cat", ""], ["cat", "sat"], max_len=2)
    assert sequences.to_pylist() == [[2, 3], [1, 2], []]
    matrix = padded(sequences, 3)
    assert matrix.tolist() == [[2, 3, 0], [1, 2, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 2, 0]
    assert matrix.dtype == np.int32


def test_ids_match_keras_text_vectorization():
    import keras
    import tensorflow as tf

    vocabulary = build_vocabulary(TEXTS, vocab_size=5)
    texts = TEXTS + ["unknown cat words"]
    layer = keras.layers.TextVectorization(
        vocabulary=vocabulary, standardize=None, output_sequence_length=4
    )
    sequences, _ = to_sequences(texts, vocabulary, max_len=4)
    assert layer(tf.constant(texts)).numpy().tolist() == padded(sequences, 4).tolist()


def test_split_is_stratified_disjoint_and_reproducible():
    labels = np.repeat(np.arange(4), [40, 30, 20, 10])
    fit, val = stratified_split(labels, 0.2, seed=1)
    assert sorted(np.concatenate([fit, val]).tolist()) == list(range(100))
    assert np.bincount(labels[val]).tolist() == [8, 6, 4, 2]
    again, _ = stratified_split(labels, 0.2, seed=1)
    assert fit.tolist() == again.tolist()
    other, _ = stratified_split(labels, 0.2, seed=2)
    assert fit.tolist() != other.tolist()


def test_split_keeps_a_row_of_every_genre_for_fitting():
    labels = np.array([0] * 50 + [1] * 2 + [2] * 3)
    fit, val = stratified_split(labels, 0.6, seed=0)
    assert set(labels[fit]) == {0, 1, 2}
    assert len(val) <= 33


def test_split_refuses_a_genre_with_one_row_and_an_empty_validation_split():
    with pytest.raises(PipelineError, match="genre 'war' has a single training row"):
        stratified_split(np.array([0, 0, 1]), 0.5, seed=0, genres=["drama", "war"])
    with pytest.raises(PipelineError, match="leaves no validation row"):
        stratified_split(np.array([0] * 10 + [1] * 10), 0.01, seed=0)


def test_folds_deal_every_genre_evenly_and_the_same_seed_deals_the_same():
    counts = [40, 30, 20, 10, 5, 4]  # the last two: musical (one per fold) and war (fewer than folds)
    labels = np.repeat(np.arange(6), counts)
    texts = [f"plot {i}" for i in range(len(labels))]
    folds = assign_folds(labels, texts, 5, 0.1, seed=1)
    for genre, count in enumerate(counts):
        per_fold = np.bincount(folds[labels == genre], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1 and per_fold.sum() == count
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 1
    assert (np.bincount(folds[labels == 5], minlength=5) <= 1).all()  # war: held once in 4 folds, never twice
    assert folds.tolist() == assign_folds(labels, texts, 5, 0.1, seed=1).tolist()
    assert folds.tolist() != assign_folds(labels, texts, 5, 0.1, seed=2).tolist()


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30)), min_size=6, max_size=200), st.integers(2, 6))
def test_every_copy_of_a_text_is_in_one_fold(rows, k):
    texts = [f"text {n}" for _, n in rows]
    labels = np.array([n % 4 for _, n in rows])  # copies of a text carry one genre, as a scaled-up file's
    if len(set(texts)) < k:
        with pytest.raises(PipelineError, match=f"tokenize.folds={k}, but the training file holds"):
            assign_folds(labels, texts, k, 0.1, seed=0)
        return
    folds = assign_folds(labels, texts, k, 0.1, seed=0)
    assert set(folds.tolist()) == set(range(k))
    for text in set(texts):
        assert len(set(folds[[t == text for t in texts]].tolist())) == 1


def test_one_fold_is_the_stratified_held_out_split():
    labels = np.repeat(np.arange(4), [40, 30, 20, 10])
    folds = assign_folds(labels, [str(i) for i in range(100)], 1, 0.2, seed=1)
    _, val = stratified_split(labels, 0.2, seed=1)
    assert np.flatnonzero(folds == 0).tolist() == val.tolist()
    assert set(folds.tolist()) == {0, NEVER_HELD}


def test_sequences_round_trip_through_parquet_in_row_groups(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setattr(common, "ROW_GROUP", 3)  # 4 texts: two row groups
    path = tmp_path / "s.parquet"
    lengths = write_sequences(path, np.arange(4), np.array([1, 0, 1, 2]), pa.array(TEXTS), ["cat", "dog"], max_len=2)
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    read_matrix, read_lengths, labels = read_sequences(path)
    assert read_matrix.tolist() == [[2, 1], [2, 3], [3, 2], [1, 0]]
    assert read_lengths.tolist() == lengths.tolist() == [3, 2, 3, 1]  # before cutting
    assert labels.tolist() == [1, 0, 1, 2]


def test_vocabulary_counts_add_up_across_row_groups(monkeypatch):
    whole = build_vocabulary(TEXTS * 3, vocab_size=100)
    monkeypatch.setattr(common, "ROW_GROUP", 2)
    assert build_vocabulary(TEXTS * 3, vocab_size=100) == whole == ["cat", "bird", "dog", "mat", "sat"]


def test_empty_texts_add_no_word():
    assert build_vocabulary(["", "cat"], vocab_size=10) == ["cat"]
    assert to_sequences(["", "cat"], ["cat"], max_len=2)[1].tolist() == [0, 1]


def test_stage_adds_glove_words_the_training_text_lacks(tmp_path):
    """Through the entry point: a test word never seen in training keeps its own id."""
    import json
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq
    from conftest import ROOT

    cleaned = tmp_path / "data/cleaned"
    cleaned.mkdir(parents=True)
    train = {"id": list(range(1, 9)), "genre": ["drama", "comedy"] * 4, "text": ["cat sat mat", "dog ran"] * 4}
    pq.write_table(pa.table(train), cleaned / "train.parquet")
    pq.write_table(pa.table({"id": [1], "genre": ["drama"], "text": ["cat president zzqxj"]}), cleaned / "test.parquet")
    (tmp_path / "params.yaml").write_text(
        "tokenize: {vocab_size: 100, glove_words: 1000, max_len: 5, folds: 2, val_split: 0.25, seed: 0}\n"
    )
    subprocess.run([sys.executable, "-m", "stages.tokenize"], cwd=tmp_path, check=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": ""}, capture_output=True)
    vocabulary = (tmp_path / "data/tokenized/vocabulary.txt").read_text().splitlines()
    assert vocabulary[:5] == ["cat", "dog", "mat", "ran", "sat"]  # training words first, ties alphabetical
    assert "president" in vocabulary and "the" in vocabulary and len(vocabulary) < 1000 + 5
    matrix, _, _ = read_sequences(tmp_path / "data/tokenized/test.parquet")
    assert matrix[0].tolist() == [vocabulary.index("cat") + 2, vocabulary.index("president") + 2, 1, 0, 0]
    assert json.loads((tmp_path / "data/tokenized/genres.json").read_text()) == ["comedy", "drama"]
    # Every training row, each with its fold; the two texts in two folds, every copy of a text in one
    folds = read_folds(tmp_path / "data/tokenized/train.parquet")
    assert len(folds) == 8 and sorted(set(folds[::2].tolist()) | set(folds[1::2].tolist())) == [0, 1]
    assert len(set(folds[::2].tolist())) == 1 and len(set(folds[1::2].tolist())) == 1
