"""The wide path: its n-grams, its TF-IDF against scikit-learn's, its fit, and its place in the saved model."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import tensorflow as tf  # noqa: E402
from conftest import SMALL_MODEL  # noqa: E402

from movie_genre.errors import PipelineError  # noqa: E402
from movie_genre.modeling.build import build_classifier, build_text_model  # noqa: E402
from movie_genre.modeling.layers import blend  # noqa: E402
from movie_genre.modeling.saving import (  # noqa: E402
    load_model,
    predict_paths,
    predict_texts,
    predict_with_paths,
    save_model,
)
from movie_genre.modeling.wide import ABSENT_BIAS, build_wide, fit_wide, idf, ngram_vocabulary, tf_idf  # noqa: E402

GENRES = ["drama", "horror", "romance"]
PARAMS = {"wide": "linear_svc", "wide_C": 0.3, "wide_max_ngrams": 1000, "wide_l2": 1e-3, "seed": 1}


def random_texts(seed, n, words=40):
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{i}" for i in range(words)])
    return [" ".join(rng.choice(vocabulary, size=k)) for k in rng.integers(1, 30, size=n)]


def test_the_vocabulary_keeps_the_ngrams_most_texts_hold_ties_alphabetically():
    ngrams, held = ngram_vocabulary(["a b a", "a c", "b a", ""], 4)
    # a: 3 texts; b: 2; "b a": 2 ("a b a" holds it once, as a text holding it); then "a b" before "a c", c
    assert ngrams == ["a", "b", "b a", "a b"]
    assert held.tolist() == [3, 2, 2, 1]


def test_texts_with_no_word_at_all_are_an_error_not_an_empty_model():
    with pytest.raises(PipelineError, match="hold no word"):
        ngram_vocabulary(["", " "], 10)


def test_the_tf_idf_is_scikit_learns_sublinear_tf_idf_for_the_same_ngrams():
    from sklearn.feature_extraction.text import TfidfVectorizer

    fit, other = random_texts(1, 200), random_texts(2, 50, words=60) + ["", "w59 w58"]  # w40..w59: unknown
    ngrams, held = ngram_vocabulary(fit, 300)
    model = build_wide(ngrams, idf(held, len(fit)), len(GENRES))
    features = tf_idf(model, other)
    ours = tf.sparse.to_dense(features).numpy()[:, 1:]  # column 0: n-grams outside the vocabulary, dropped
    reference = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", vocabulary=ngrams)
    expected = reference.fit(fit).transform(other).toarray()
    np.testing.assert_allclose(ours, expected, rtol=2e-6, atol=1e-7)
    assert not ours[-2:].any() and ours.any(axis=1).sum() > 40  # no known n-gram: a row of zeros, not NaN


def separable(seed, n):
    """Texts whose genre is told by one of its words, among noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(GENRES), size=n)
    noise = random_texts(seed, n)
    return [f"{noise[i]} {GENRES[label]}word {noise[i][:5]}" for i, label in enumerate(labels)], labels


@pytest.mark.parametrize("how", [{"wide": "linear_svc"}, {"wide": "softmax"}])
def test_the_wide_path_learns_and_the_same_fit_gives_the_same_bytes(how):
    texts, labels = separable(3, 300)
    held_out, held_out_labels = separable(4, 100)
    fits = []
    for global_seed in (1, 2):  # Keras' global seed moves between the two; the fit must not
        keras.backend.clear_session()
        keras.utils.set_random_seed(global_seed)
        fits.append(fit_wide({**PARAMS, **how}, texts, labels, len(GENRES)))
    scores = fits[0](tf.constant(held_out)).numpy()
    assert (scores.argmax(axis=1) == held_out_labels).mean() > 0.95
    for a, b in zip(fits[0].weights, fits[1].weights):
        assert a.numpy().tobytes() == b.numpy().tobytes(), a.path


def test_the_svm_path_computes_what_scikit_learn_fitted_and_scores_an_absent_genre_low():
    from sklearn.svm import LinearSVC

    keras.backend.clear_session()
    texts, labels = separable(7, 200)
    labels[labels == 2] = 0  # romance: no fit row holds it
    model = fit_wide(PARAMS, texts, labels, len(GENRES))
    features = tf_idf(model, texts)
    dense = tf.sparse.to_dense(features).numpy().astype(np.float64)
    svm = LinearSVC(C=PARAMS["wide_C"], class_weight="balanced", random_state=PARAMS["seed"]).fit(dense, labels)
    decision = svm.decision_function(dense)  # two genres: one column, the second genre's score
    scores = model(tf.constant(texts)).numpy()
    np.testing.assert_allclose(scores[:, 1], decision, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(scores[:, 0], -decision, rtol=1e-4, atol=1e-4)
    assert (scores[:, 2] == ABSENT_BIAS).all()


def test_the_saved_model_pools_its_two_paths_at_the_fitted_scales_and_loads_in_safe_mode(tmp_path):
    keras.backend.clear_session()
    vocabulary = ["ship", "ghost", "love"]
    keras.utils.set_random_seed(1)
    member = build_classifier(len(vocabulary) + 2, len(GENRES), SMALL_MODEL)
    texts, labels = separable(5, 60)
    wide = fit_wide(PARAMS, texts, labels, len(GENRES))
    model = build_text_model(member, vocabulary, ["the"], GENRES, max_len=5, wide=wide, scales=(0.7, 2.5))
    save_model(model, tmp_path / "wide.keras")
    loaded = load_model(tmp_path / "wide.keras")
    plots = ["ghost ship horrorword", "love love horrorword", "the romanceword", "nothing known"]
    ids = tf.constant([[3, 2, 1, 0, 0], [4, 4, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 0, 0, 0]])  # as the vectorizer maps them
    p, s = member(ids).numpy(), wide(tf.constant(plots)).numpy()
    logits = 0.7 * np.log(p) + 2.5 * s
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    got = predict_texts(loaded, plots)
    np.testing.assert_allclose(got, expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)
    assert not np.allclose(got, p, atol=1e-3)  # the wide path counts
    assert got[1].argmax() == GENRES.index("horror") and got[2].argmax() == GENRES.index("romance")
    member_p, wide_s = predict_paths(loaded, plots)  # each path alone, as evaluate scores them
    np.testing.assert_allclose(member_p, p, rtol=1e-6)
    np.testing.assert_allclose(wide_s, s, rtol=1e-6)
    both = predict_with_paths(loaded, plots)  # evaluate's one pass: the same bytes as the two apart
    assert [a.tobytes() for a in both] == [a.tobytes() for a in (got, member_p, wide_s)]


def test_blending_at_scale_0_drops_a_path_and_a_lone_path_is_a_temperature():
    rng = np.random.default_rng(6)
    members = rng.dirichlet(np.ones(5), size=8).astype(np.float32)
    scores = rng.normal(size=(8, 5)).astype(np.float32)
    np.testing.assert_allclose(blend(members, scores, 1.0, 0.0).numpy(), members, rtol=1e-5)
    wide_alone = np.exp(scores * 2) / np.exp(scores * 2).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(blend(members, scores, 0.0, 2.0).numpy(), wide_alone, rtol=1e-5)
    sharpened = members**3 / (members**3).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(blend(members, None, 3.0, 0.0).numpy(), sharpened, rtol=1e-4)


def test_a_row_the_cleaned_file_lacks_is_named_with_the_fix(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from movie_genre.vocabulary import read_texts

    pq.write_table(pa.table({"id": [1, 2], "genre": ["drama", "horror"], "text": ["a b", "c"]}), tmp_path / "c.parquet")
    pq.write_table(pa.table({"id": [2, 1]}), tmp_path / "s.parquet")
    pq.write_table(pa.table({"id": [1]}), tmp_path / "t.parquet")
    assert read_texts(tmp_path / "c.parquet", tmp_path / "s.parquet", tmp_path / "t.parquet") == [["c", "a b"], ["a b"]]
    with pytest.raises(PipelineError, match=r"nothing\.parquet: no such file; run `dvc repro`"):
        read_texts(tmp_path / "nothing.parquet", tmp_path / "s.parquet")
    pq.write_table(pa.table({"id": [2, 7]}), tmp_path / "s.parquet")
    with pytest.raises(PipelineError, match=r"s\.parquet: id 7 is not in .*c\.parquet; run `dvc repro tokenize`"):
        read_texts(tmp_path / "c.parquet", tmp_path / "s.parquet")
