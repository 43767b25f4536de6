import hashlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import tensorflow as tf  # noqa: E402
from conftest import SMALL_MODEL  # noqa: E402

from stages.model import (  # noqa: E402
    TrimPadding,
    build_classifier,
    build_text_model,
    genre_names,
    load_model,
    predict_texts,
    save_model,
)

VOCABULARY = ["ship", "ghost", "love"]
GENRES = ["drama", "horror", "romance"]


def text_model(seed=0):
    keras.backend.clear_session()  # layer names restart, as in a stage's fresh process
    keras.utils.set_random_seed(seed)
    classifier = build_classifier(len(VOCABULARY) + 2, len(GENRES), SMALL_MODEL)
    return build_text_model(classifier, VOCABULARY, ["the", "a"], GENRES, max_len=5)


def test_trim_padding_keeps_the_longest_row():
    ids = tf.constant([[3, 4, 0, 0, 0], [5, 0, 0, 0, 0]])
    assert TrimPadding()(ids).numpy().tolist() == [[3, 4], [5, 0]]


def test_saved_model_predicts_from_raw_text_with_safe_mode(tmp_path):
    model = text_model()
    path = tmp_path / "m.keras"
    save_model(model, path)
    loaded = load_model(path)
    texts = ["The GHOST ship!", "a love story, 1999", "nothing known here at all, none"]
    expected = model(tf.constant(texts)).numpy()
    got = predict_texts(loaded, texts, batch_size=2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=1e-5)
    assert genre_names(loaded) == GENRES
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_same_weights_save_to_the_same_bytes(tmp_path):
    save_model(text_model(seed=1), tmp_path / "a.keras")
    save_model(text_model(seed=1), tmp_path / "b.keras")
    save_model(text_model(seed=2), tmp_path / "c.keras")
    digest = {name: hashlib.md5((tmp_path / name).read_bytes()).hexdigest() for name in ("a.keras", "b.keras", "c.keras")}
    assert digest["a.keras"] == digest["b.keras"] != digest["c.keras"]


def test_saved_model_holds_no_optimizer_state(tmp_path):
    import zipfile

    save_model(text_model(), tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert b"optimizer" not in archive.read("model.weights.h5")
