import hashlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import tensorflow as tf  # noqa: E402
from conftest import SMALL_MODEL  # noqa: E402

from movie_genre.modeling.build import (  # noqa: E402
    build_classifier,
    build_text_model,
    learned_ids,
    learned_rows,
    saved_weights,
)
from movie_genre.modeling.layers import AttentionPooling, FusedLSTM, PartlyFrozenEmbedding, TrimPadding  # noqa: E402
from movie_genre.modeling.optimizers import FusedAdam, training_model  # noqa: E402
from movie_genre.modeling.saving import genre_names, load_model, predict_texts, save_model  # noqa: E402

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
    expected = model({"title": tf.constant([""] * 3), "plot": tf.constant(texts)}).numpy()
    got = predict_texts(loaded, texts, batch_size=2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=1e-5)
    assert genre_names(loaded) == GENRES
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_title_is_read_only_by_a_model_built_with_title(tmp_path):
    def probabilities(with_title, titles):
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        classifier = build_classifier(len(VOCABULARY) + 2, len(GENRES), SMALL_MODEL)
        model = build_text_model(classifier, VOCABULARY, ["the"], GENRES, max_len=5, with_title=with_title)
        save_model(model, tmp_path / "m.keras")
        return predict_texts(load_model(tmp_path / "m.keras"), ["a love story"] * 2, titles)

    np.testing.assert_allclose(probabilities(False, ["Ghost Ship", ""]), probabilities(False, None))
    with_title = probabilities(True, ["Ghost Ship", ""])
    # Read with the title it is "ghost ship a love story"; with an empty title, the plot alone.
    np.testing.assert_allclose(with_title[0], probabilities(True, ["", "Ghost Ship a love story"])[1], rtol=1e-6)
    np.testing.assert_allclose(with_title[1], probabilities(False, None)[1], rtol=1e-6)
    assert not np.allclose(with_title[0], with_title[1])
    with pytest.raises(ValueError, match="1 titles for 2 plots"):
        probabilities(True, ["Ghost Ship"])


def test_same_weights_save_to_the_same_bytes(tmp_path):
    save_model(text_model(seed=1), tmp_path / "a.keras")
    save_model(text_model(seed=1), tmp_path / "b.keras")
    save_model(text_model(seed=2), tmp_path / "c.keras")
    digest = {name: hashlib.md5((tmp_path / name).read_bytes()).hexdigest() for name in ("a.keras", "b.keras", "c.keras")}
    assert digest["a.keras"] == digest["b.keras"] != digest["c.keras"]


def test_a_trained_classifier_goes_into_the_saved_model_without_its_optimizer_state(tmp_path):
    import zipfile

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    classifier = build_classifier(len(VOCABULARY) + 2, len(GENRES), SMALL_MODEL)
    params = {"learning_rate": 0.01, "lr_schedule": "constant", "optimizer": "fused_adam", "label_smoothing": 0.0}
    trainer = training_model(classifier, params, 4)
    before = [w.numpy().copy() for w in classifier.weights]
    trainer.fit(np.array([[2, 3, 0], [4, 4, 2]] * 4, "int32"), np.eye(3)[[0, 1] * 4], epochs=2, verbose=0)
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, classifier.weights))  # it trained
    keras.saving.save_model(trainer, tmp_path / "trainer.keras")  # the control: a compiled model keeps its moments
    save_model(build_text_model(classifier, VOCABULARY, ["the"], GENRES, max_len=5), tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "trainer.keras") as archive:
        assert b"optimizer" in archive.read("model.weights.h5")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert b"optimizer" not in archive.read("model.weights.h5")


def test_attention_pooling_weighs_only_the_unpadded_steps():
    keras.utils.set_random_seed(0)
    layer = AttentionPooling(3)
    sequences = tf.constant(np.random.default_rng(0).normal(size=(2, 4, 5)), "float32")
    mask = tf.constant([[True, True, True, False], [True, True, False, False]])
    pooled = layer(sequences, mask=mask).numpy()
    # Whatever the padded steps hold, the result is the same.
    changed = tf.where(mask[..., None], sequences, 1e6)
    np.testing.assert_allclose(layer(changed, mask=mask).numpy(), pooled, rtol=1e-6)
    # With the score's weights at zero every real step weighs the same: the masked mean.
    layer.score.kernel.assign(tf.zeros_like(layer.score.kernel))
    expected = [sequences[0, :3].numpy().mean(axis=0), sequences[1, :2].numpy().mean(axis=0)]
    np.testing.assert_allclose(layer(sequences, mask=mask).numpy(), expected, rtol=1e-5)


def test_saved_model_with_attention_pooling_loads_the_same(tmp_path):
    keras.utils.set_random_seed(0)
    classifier = build_classifier(len(VOCABULARY) + 2, len(GENRES), {**SMALL_MODEL, "pooling": "attention"})
    model = build_text_model(classifier, VOCABULARY, ["the"], GENRES, max_len=5)
    save_model(model, tmp_path / "m.keras")
    texts = ["ghost ship", "love love ghost"]
    np.testing.assert_allclose(
        predict_texts(load_model(tmp_path / "m.keras"), texts), predict_texts(model, texts), rtol=1e-6
    )


def test_partly_frozen_embedding_looks_up_both_tables_and_trains_only_the_first():
    initial = np.arange(12, dtype="float32").reshape(6, 2)
    layer = PartlyFrozenEmbedding(6, 2, learned_rows=3, initial=initial)
    ids = tf.constant([[1, 4, 2, 0], [5, 3, 0, 0]])
    np.testing.assert_array_equal(layer(ids).numpy(), initial[ids.numpy()])
    np.testing.assert_array_equal(layer.compute_mask(ids).numpy(), ids.numpy() != 0)
    assert [w.name for w in layer.trainable_weights] == ["learned"]

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(ids))
    (gradient,) = tape.gradient(loss, layer.trainable_weights)
    # Learned rows get one unit per lookup (id 0 three times); lookups of ids 3-5 add nothing.
    np.testing.assert_array_equal(tf.convert_to_tensor(gradient).numpy(), [[3, 3], [1, 1], [1, 1]])


def test_classifier_trains_only_rows_below_learned_rows():
    keras.utils.set_random_seed(0)
    vectors = np.random.default_rng(0).normal(size=(8, SMALL_MODEL["embedding_dim"])).astype("float32")
    classifier = build_classifier(8, 2, SMALL_MODEL, vectors, learned_rows=5)
    optimizer = {"optimizer": "fused_adam", "learning_rate": 0.1, "lr_schedule": "constant", "label_smoothing": 0.0}
    model = training_model(classifier, {**SMALL_MODEL, **optimizer}, total_steps=2)
    model.fit(np.array([[2, 3, 4, 0], [4, 3, 0, 0]]), np.eye(2), epochs=2, verbose=0)
    embedding = classifier.get_layer("embedding")
    # The optimizer sees only the learned rows: no update work for the others.
    assert [tuple(w.shape) for w in embedding.trainable_weights] == [(5, SMALL_MODEL["embedding_dim"])]
    table = np.concatenate([w.numpy() for w in embedding.weights])
    assert not np.allclose(table[2:5], vectors[2:5])  # ids in the training rows moved
    np.testing.assert_array_equal(table[5:], vectors[5:])  # the others did not


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_only_the_rows_the_texts_read_gives_the_same_weights_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(12, SMALL_MODEL["embedding_dim"])).astype("float32")
    # Ids 4, 5 and 7 are in no text, 10 and 11 above the largest: none ever has a gradient
    words = rng.choice([1, 2, 3, 6, 8, 9], size=(8, 5))
    x = np.where(np.arange(5) < rng.integers(1, 6, size=(8, 1)), words, 0).astype("int32")  # texts, then padding
    x[0] = 9
    y = np.eye(2)[rng.integers(0, 2, size=8)]
    params = {**SMALL_MODEL, "dropout": 0.3, "optimizer": "fused_adam", "learning_rate": 0.1,
              "lr_schedule": "constant", "label_smoothing": 0.0}
    weights = []
    for learned in (learned_rows(x), learned_ids(x)):
        keras.utils.set_random_seed(seed)
        classifier = build_classifier(12, 2, params, vectors, learned)
        training_model(classifier, params, total_steps=6).fit(x, y, batch_size=3, epochs=2, verbose=0)
        weights.append(saved_weights(classifier))
    assert tuple(classifier.get_layer("embedding").learned.shape) == (7, SMALL_MODEL["embedding_dim"])
    assert not np.array_equal(weights[1][0], vectors[:10])  # the texts' rows moved
    for prefix, compact in zip(*weights, strict=True):
        np.testing.assert_array_equal(prefix, compact)


def test_held_probabilities_are_keras_predicts_bit_for_bit_in_the_rows_order():
    from movie_genre.modeling.batching import LengthBatches
    from movie_genre.modeling.train import predicted_probabilities

    rng = np.random.default_rng(4)
    lengths = rng.integers(1, 9, size=23)
    x = np.where(np.arange(8) < lengths[:, None], rng.integers(2, 12, size=(23, 8)), 0).astype("int32")
    keras.utils.set_random_seed(4)
    classifier = build_classifier(12, 3, {**SMALL_MODEL, "bidirectional": True, "pooling": "max_mean"},
                                  rng.normal(size=(12, 4)).astype("float32"))
    batches = LengthBatches(x, lengths, rng.integers(0, 3, size=23), 3, batch_size=5)
    probabilities = predicted_probabilities(classifier, batches)
    assert len({ids.shape[1] for ids in batches.inputs()}) > 1  # batches of several widths, one trace
    np.testing.assert_array_equal(probabilities[batches.rows()], classifier.predict(batches, verbose=0))


@pytest.mark.parametrize("options", [
    {"return_sequences": True}, {"return_sequences": False}, {"return_sequences": True, "go_backwards": True},
    {"return_sequences": False, "go_backwards": True}, {"return_sequences": True, "zero_output_for_mask": True},
    {"return_sequences": True, "return_state": True},
])
def test_fused_lstm_computes_what_keras_lstm_does_with_its_weights(options):
    rng = np.random.default_rng(5)
    x = tf.constant(rng.normal(size=(7, 9, 5)).astype("float32"))
    mask = tf.constant(np.arange(9)[None, :] < np.array([0, 1, 3, 9, 9, 5, 2])[:, None])  # a text of no word too
    plain, fused = keras.layers.LSTM(4, **options), FusedLSTM(4, **options)
    for layer in (plain, fused):
        layer.build((None, None, 5))
    for a, b in zip(plain.weights, fused.weights, strict=True):
        a.assign(rng.normal(size=a.shape).astype("float32") * 0.5)
        b.assign(a)
    results = []
    for layer in (plain, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.nest.flatten(layer(x, mask=mask))
            loss = sum(tf.reduce_sum(o * o) for o in outputs)
        results.append((outputs, tape.gradient(loss, [x, *layer.weights])))
    (plain_out, plain_grad), (fused_out, fused_grad) = results
    # The same function; only the grouping of the sums differs, so the last bits do
    for a, b in zip(plain_out + plain_grad, fused_out + fused_grad, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-5)
    assert np.abs(np.asarray(plain_grad[0])).max() > 0.1


def test_fused_lstm_refuses_padding_inside_a_text():
    layer = FusedLSTM(2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="padding inside a text"):
        layer(tf.ones((1, 3, 2)), mask=tf.constant([[True, False, True]]))


def test_fused_adam_updates_as_keras_adam_does():
    initial = np.arange(8, dtype="float32").reshape(4, 2)
    fused_table, keras_table = keras.Variable(initial), keras.Variable(initial)
    fused, plain = FusedAdam(0.1), keras.optimizers.Adam(0.1)
    for rows in ([0, 2, 2], [1], [3, 0]):  # an embedding's gradient: the rows a batch looked up
        values = tf.constant(np.arange(2 * len(rows), dtype="float32").reshape(-1, 2) - 1)
        gradient = tf.IndexedSlices(values, tf.constant(rows), dense_shape=(4, 2))
        fused.apply([gradient], [fused_table])
        # Adam's definition: the rows' gradients summed first (Keras' Adam, given the
        # slices themselves, squares a repeated row's parts before adding them).
        plain.apply([tf.convert_to_tensor(gradient)], [keras_table])
        np.testing.assert_allclose(fused_table.numpy(), keras_table.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(fused_table.numpy(), initial)


def test_an_ensemble_averages_its_members_and_the_scale_softens_them(tmp_path):
    keras.backend.clear_session()
    members = []
    for seed, name in ((1, "classifier_1"), (2, "classifier_2")):
        keras.utils.set_random_seed(seed)
        members.append(build_classifier(len(VOCABULARY) + 2, len(GENRES), SMALL_MODEL, name=name))
    model = build_text_model(members, VOCABULARY, ["the"], GENRES, max_len=5, scales=(0.5, 0.0))
    save_model(model, tmp_path / "ensemble.keras")
    texts = ["ghost ship", "love love ghost", "nothing known"]
    ids = tf.constant([[3, 2, 0, 0, 0], [4, 4, 3, 0, 0], [1, 1, 0, 0, 0]])  # as the model's vectorizer maps them
    averaged = np.mean([member(ids).numpy() for member in members], axis=0)
    got = predict_texts(load_model(tmp_path / "ensemble.keras"), texts)
    softened = np.sqrt(averaged) / np.sqrt(averaged).sum(axis=1, keepdims=True)  # softmax(0.5 log p)
    np.testing.assert_allclose(got, softened, rtol=1e-5)
    assert not np.allclose(members[0](ids).numpy(), members[1](ids).numpy())


def test_the_saved_model_answers_a_text_with_no_word_left_alone_in_its_batch(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    params = {**SMALL_MODEL, "bidirectional": True, "pooling": "max_mean"}
    model = build_text_model(build_classifier(len(VOCABULARY) + 2, len(GENRES), params), VOCABULARY, ["the", "a"],
                             GENRES, max_len=5)
    path = tmp_path / "m.keras"
    save_model(model, path)
    # Loaded as any Keras user would, with none of our commands: only the package imported
    code = (
        "import sys, keras, numpy as np, movie_genre\n"
        "model = keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
        "for text in ['', 'the a the', '12345 !!!', 'ghost']:\n"
        "    p = model({'title': np.array(['']), 'plot': np.array([text])}).numpy()[0]\n"
        "    print(' '.join(f'{x:.9g}' for x in p))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    empty, stopwords, digits, word = [np.array(line.split(), float) for line in result.stdout.splitlines()]
    assert np.isfinite(empty).all() and empty.sum() == pytest.approx(1, abs=1e-6)
    assert (stopwords == empty).all() and (digits == empty).all() and not (word == empty).all()
    alone = predict_texts(load_model(path), [""])[0]
    mixed = predict_texts(load_model(path), ["ship love", "", "ghost"], batch_size=3)[1]
    np.testing.assert_allclose(alone, empty, rtol=1e-6)
    np.testing.assert_allclose(mixed, alone, rtol=1e-6)  # the same answer with other plots in its batch


def test_predict_texts_answers_every_kind_of_plot_a_person_can_type(tmp_path):
    model = text_model()
    save_model(model, tmp_path / "m.keras")
    plots = ["", "the a", "12345 !!!", "ghost ship " * 50000, "Ünïcödé ☃ 🎬 ghost ΣΠΑΡΤΗ", "ghost\tship\x00\x1b[31m\x0b",
             "\u200b\u202e\ufeff"]
    for batch_size in (1, 3, 256):
        got = predict_texts(load_model(tmp_path / "m.keras"), plots, batch_size=batch_size)
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got.sum(axis=1), 1, rtol=1e-5)
        # Nothing left after cleaning: the empty text's answer, whatever else is in the batch
        np.testing.assert_allclose(got[[1, 2, 6]], got[[0, 0, 0]], rtol=1e-6)
