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


def test_a_train_param_that_contradicts_the_pretrained_encoder_is_refused_by_name():
    from movie_genre.modeling.schema import check_params

    pretrain = {"embedding_dim": 50, "bidirectional": True, "lstm_units": 64, "pooling": "max_mean"}
    check_params(train_params(encoder="pretrained"), pretrain)
    with pytest.raises(PipelineError, match=r"'train.lstm_units' is 128; .* must be 64, 'pretrain.lstm_units'"):
        check_params(train_params(encoder="pretrained", lstm_units=128), pretrain)
    check_params(train_params(lstm_units=128), pretrain)  # word vectors: the encoder is train's own
    with pytest.raises(PipelineError, match="need train.encoder: pretrained"):
        check_params(train_params(joint_weight=0.5), pretrain)


# With TensorFlow: a tiny encoder, pretrained, then a classifier from it
keras = pytest.importorskip("keras")
from conftest import SMALL_MODEL  # noqa: E402

SMALL = {**SMALL_MODEL, "bidirectional": True, "pooling": "max_mean"}
FIT = {
    **SMALL, "batch_size": 2, "epochs": 3, "class_weight_power": 0.5, "monitor": "val_loss", "patience": 10,
    "optimizer": "fused_adam", "learning_rate": 0.05, "lr_schedule": "constant", "label_smoothing": 0.0,
    "ensemble": "seeds", "members": 1, "cycle_epochs": 1, "swa_epochs": 1, "encoder": "pretrained",
    "encoder_lr_scale": 1.0, "joint_weight": 0.0,
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


def fitted(params, encoder, joint=None):
    from movie_genre.modeling.batching import LengthBatches
    from movie_genre.modeling.train import fit_classifier

    x, lengths, y = labelled()
    val = LengthBatches(x[:4], lengths[:4], y[:4], 2, 4)
    classifier, taken, _ = fit_classifier(params, 1, "classifier", encoder["embedding"], 10, 2, (x, lengths, y), val,
                                          encoder={"weights": encoder, "joint": joint})
    return dict(zip([w.path for w in classifier.weights], taken[0]))


def test_encoder_lr_scale_0_keeps_the_encoder_and_trains_the_genre_layer(encoder):
    frozen = fitted({**FIT, "encoder_lr_scale": 0.0}, encoder)
    moving = fitted(FIT, encoder)
    lstm = "bidirectional/forward_lstm/lstm_cell/kernel"
    np.testing.assert_array_equal(frozen[lstm], encoder[lstm])
    assert not np.allclose(moving[lstm], encoder[lstm])
    assert not np.allclose(frozen["genre/kernel"], moving["genre/kernel"])


def test_joint_training_lets_the_corpus_texts_move_the_encoder(encoder):
    from movie_genre.modeling.train import joint_targets

    (cx, clen), names = corpus()
    targets = joint_targets(np.array([1, 0]), 2, names[:3])
    assert targets.shape == (5, 2 + 3 + 1) and targets[:, -1].tolist() == [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(targets[:2, :2], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(targets[2:, 2:5], names[:3])
    plain = fitted(FIT, encoder)
    joint = fitted({**FIT, "joint_weight": 1.0}, encoder, (cx, clen, names))
    assert set(joint) == set(plain)  # the classifier keeps no trace of the names' head
    lstm = "bidirectional/forward_lstm/lstm_cell/kernel"
    assert not np.allclose(joint[lstm], plain[lstm])
