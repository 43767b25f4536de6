"""The pretrain stage's labels, split, scores and encoder file, and train.encoder: pretrained."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from movie_genre.errors import PipelineError
from movie_genre.pretraining import (
    POOLED,
    genre_names,
    held_out_rows,
    label_matrix,
    load_encoder,
    most_frequent_guess,
    multilabel_scores,
    save_encoder,
)


def test_source_genre_names_are_normalised():
    assert genre_names("International TV Shows, TV Dramas, TV Mysteries") == ["drama", "international", "mystery"]
    assert genre_names("Action,Adventure,Sci-Fi") == ["action", "adventure", "sci-fi"]
    assert genre_names("Science Fiction") == ["sci-fi"]
    assert genre_names("Children & Family Movies, Comedies") == ["comedy", "family", "kids"]
    assert genre_names("Documentaries") == genre_names("Docuseries") == ["documentary"]
    assert genre_names("") == genre_names("Movies") == genre_names(" , TV Shows") == []


def test_rare_names_are_pooled_and_counted():
    fields = ["Drama", "Drama, Western", "Comedies", "Comedy, Noir", "Drama, Comedy", "Musical", ""]
    names, matrix, pooled = label_matrix(fields, min_texts=2)
    assert names == ["comedy", "drama", POOLED]  # most texts first, ties alphabetical, the pool last
    assert pooled == {"musical": 1, "noir": 1, "western": 1}
    np.testing.assert_array_equal(matrix, [[0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 0, 1], [1, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert label_matrix(fields, min_texts=1)[0][-1] != POOLED


def test_held_out_rows_split_every_row_once_the_same_for_a_seed():
    fit, held = held_out_rows(1000, 0.1, 3)
    assert len(held) == 100 and sorted(np.concatenate([fit, held]).tolist()) == list(range(1000))
    again = held_out_rows(1000, 0.1, 3)
    assert (again[1] == held).all() and not (held_out_rows(1000, 0.1, 4)[1] == held).all()


def test_multilabel_scores_are_sklearns():
    rng = np.random.default_rng(0)
    truth, predicted = (rng.random((50, 6)) < 0.3).astype(np.float32), (rng.random((50, 6)) < 0.3).astype(np.float32)
    scores = multilabel_scores(truth, predicted)
    assert scores["micro_f1"] == round(f1_score(truth, predicted, average="micro"), 4)
    assert scores["macro_f1"] == round(f1_score(truth, predicted, average="macro", zero_division=0), 4)


def test_the_reference_guesses_the_names_most_texts_hold():
    fit = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0], [0, 0, 1]], np.float32)
    assert most_frequent_guess(fit, 2).tolist() == [[1, 0, 1], [1, 0, 1]]
    rare = np.array([[1, 0], [0, 1], [1, 0], [0, 0], [0, 0]], np.float32)
    assert most_frequent_guess(rare, 1).tolist() == [[1, 0]]


def test_the_encoder_file_round_trips_with_the_same_bytes(tmp_path):
    weights = {"embedding": np.arange(12, dtype=np.float32).reshape(4, 3),
               "bidirectional/forward_lstm/lstm_cell/kernel": np.ones((3, 8), np.float32)}
    save_encoder(weights, tmp_path / "a.npz")
    save_encoder(weights, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_encoder(tmp_path / "a.npz")
    assert loaded.keys() == weights.keys() and all((loaded[k] == weights[k]).all() for k in weights)


def train_params(**changes):
    import yaml
    from conftest import ROOT

    return {**yaml.safe_load((ROOT / "params.yaml").read_text())["train"], **changes}


def test_encoder_lr_scale_without_the_pretrained_encoder_is_refused():
    from movie_genre.modeling.schema import check_params

    check_params(train_params(encoder="pretrained", encoder_lr_scale=0.3))
    with pytest.raises(PipelineError, match="needs train.encoder: pretrained"):
        check_params(train_params(encoder_lr_scale=0.3))


# With TensorFlow: a tiny encoder, pretrained, then a classifier from it
keras = pytest.importorskip("keras")
from conftest import SMALL_MODEL  # noqa: E402

SMALL = {**SMALL_MODEL, "bidirectional": True, "pooling": "max_mean"}
FIT = {
    **SMALL, "batch_size": 2, "epochs": 3, "class_weight_power": 0.5, "monitor": "val_loss", "patience": 10,
    "optimizer": "fused_adam", "learning_rate": 0.05, "lr_schedule": "constant", "label_smoothing": 0.0,
    "members": 1, "encoder": "pretrained", "encoder_lr_scale": 1.0,
}


def corpus(n_names=3):
    rng = np.random.default_rng(1)
    x = rng.integers(2, 9, size=(40, 5)).astype(np.int32)
    return (x, np.full(40, 5)), (rng.random((40, n_names)) < 0.4).astype(np.float32)


@pytest.fixture(scope="module")
def encoder():
    from movie_genre.modeling.pretrain import pretrain

    texts, labels = corpus()
    params = {**SMALL, "epochs": 2, "seed": 0}
    weights, figures = pretrain(params, 10, None, texts, labels, np.arange(30, 40))
    assert figures["held_out_texts"] == 10 and set(figures["encoder"]) == {"micro_f1", "macro_f1"}
    return weights


def labelled():
    x = np.array([[2, 3, 0], [3, 2, 0], [2, 0, 0], [3, 0, 0], [4, 2, 0], [4, 0, 0]], np.int32)
    return x, np.array([2, 2, 1, 1, 2, 1]), np.array([0, 1, 0, 1, 0, 1])


def test_the_pretrained_file_holds_the_embedding_the_lstm_and_the_names_head(encoder):
    assert encoder["embedding"].shape == (10, SMALL["embedding_dim"])
    assert {"corpus_genres/kernel", "bidirectional/forward_lstm/lstm_cell/kernel"} <= set(encoder)


def test_a_classifier_starts_from_the_encoder_and_a_missing_weight_is_named(encoder):
    from movie_genre.modeling.build import build_classifier
    from movie_genre.modeling.pretrain import start_from_encoder

    classifier = build_classifier(10, 2, FIT, encoder["embedding"], 6)
    start_from_encoder(classifier, encoder, "enc.npz")
    for weight in classifier.weights:
        if weight.path in encoder:
            np.testing.assert_array_equal(weight.numpy(), encoder[weight.path])
    table = classifier.get_layer("embedding")
    np.testing.assert_array_equal(np.concatenate([table.learned.numpy(), table.fixed.numpy()]), encoder["embedding"])
    partial = {k: v for k, v in encoder.items() if "backward" not in k}
    with pytest.raises(PipelineError, match=r"enc.npz: no weight bidirectional/backward_lstm/lstm_cell/kernel"):
        start_from_encoder(build_classifier(10, 2, FIT, encoder["embedding"], 6), partial, "enc.npz")


def fitted(params, encoder):
    from movie_genre.modeling.batching import LengthBatches
    from movie_genre.modeling.train import fit_classifier

    x, lengths, y = labelled()
    val = LengthBatches(x[:4], lengths[:4], y[:4], 2, 4)
    classifier, _ = fit_classifier(params, 1, "classifier", encoder["embedding"], 10, 2, (x, lengths, y), val,
                                   encoder=encoder)
    return {w.path: w.numpy() for w in classifier.weights}


def test_encoder_lr_scale_0_keeps_the_encoder_and_trains_the_genre_layer(encoder):
    frozen = fitted({**FIT, "encoder_lr_scale": 0.0}, encoder)
    moving = fitted(FIT, encoder)
    lstm = "bidirectional/forward_lstm/lstm_cell/kernel"
    np.testing.assert_array_equal(frozen[lstm], encoder[lstm])
    assert not np.allclose(moving[lstm], encoder[lstm])
    assert not np.allclose(frozen["genre/kernel"], moving["genre/kernel"])


def test_under_the_default_encoder_pretrain_writes_the_same_empty_encoder_whatever_its_params(tmp_path):
    """Nothing reads the encoder then: a second's placeholder, no TensorFlow, the same bytes for any
    pretrain.* (so train, which depends on the file, does not rerun)."""
    import subprocess
    import sys

    import yaml
    from conftest import ROOT

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert params["train"]["encoder"] != "pretrained"
    code = ("import runpy, sys\nrunpy.run_module('stages.pretrain', run_name='__main__')\n"
            "print(any(name.startswith('tensorflow') for name in sys.modules))")
    made = []
    for epochs in (1, 7):
        params["pretrain"]["epochs"] = epochs
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "False"  # no TensorFlow imported
        made.append((tmp_path / "models/pretrained_encoder.npz").read_bytes())
    assert made[0] == made[1] and load_encoder(tmp_path / "models/pretrained_encoder.npz") == {}
    assert "trained" in (tmp_path / "metrics/pretrain.json").read_text()


def test_train_refuses_an_empty_encoder_with_the_fix(tmp_path, monkeypatch):
    from movie_genre import config
    from stages import train

    monkeypatch.chdir(tmp_path)
    save_encoder({}, config.ENCODER_FILE)
    with pytest.raises(PipelineError, match=r"no encoder in it .* run `dvc repro`"):
        train.read_encoder()
