import pytest

from movie_genre.scoring import report, score

GENRES = ["comedy", "drama", "war"]


def test_scores_every_genre_even_unpredicted_ones():
    true = ["drama", "drama", "comedy", "war"]
    predicted = ["drama", "comedy", "comedy", "drama"]
    metrics = score(true, predicted, GENRES)
    assert metrics["accuracy"] == 0.5
    # comedy: p=1/2 r=1 f1=2/3; drama: p=1/2 r=1/2 f1=1/2; war: 0
    assert metrics["per_genre"]["comedy"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert metrics["per_genre"]["war"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3, abs=1e-4)
    assert metrics["weighted_f1"] == pytest.approx((2 / 3 * 1 + 1 / 2 * 2) / 4, abs=1e-4)


def test_report_lists_every_genre():
    text = report(["drama"], ["drama"], GENRES)
    assert all(genre in text for genre in GENRES)
