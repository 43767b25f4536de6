"""The temperature and the calibration figures."""

import numpy as np
import pytest

from movie_genre.calibration import (
    calibration_figures,
    expected_calibration_error,
    fit_temperature,
    reliability,
    with_temperature,
)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.5])
def test_fit_temperature_finds_the_temperature_that_made_a_model_overconfident(true_temperature):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, size=(20000, 5))
    # Labels drawn from the calibrated probabilities; the model reports them sharpened by T.
    calibrated = softmax(logits)
    labels = (rng.random((len(logits), 1)) > calibrated.cumsum(axis=1)).sum(axis=1)
    reported = softmax(logits * true_temperature)
    assert fit_temperature(reported, labels) == pytest.approx(true_temperature, rel=0.05)
    fitted = with_temperature(reported, fit_temperature(reported, labels))
    assert expected_calibration_error(fitted, labels) < 0.02
    if true_temperature != 1.0:
        assert expected_calibration_error(reported, labels) > 0.05


def test_temperature_keeps_the_ranking_and_undoes_itself():
    p = softmax(np.random.default_rng(1).normal(size=(50, 7)))
    q = with_temperature(p, 3.0)
    assert (q.argmax(axis=1) == p.argmax(axis=1)).all()
    assert q.max(axis=1).mean() < p.max(axis=1).mean()  # T > 1 softens
    np.testing.assert_allclose(with_temperature(q, 1 / 3.0), p, rtol=1e-6, atol=1e-9)


def test_expected_calibration_error_by_hand():
    # Two rows in the bin (0.8, 0.8667]: confidence 0.85, one right -> |0.5 - 0.85| = 0.35;
    # one row in (0.6, 0.6667]: confidence 0.65, right -> 0.35. Weighted: 0.35.
    p = np.array([[0.85, 0.15], [0.15, 0.85], [0.65, 0.35]])
    labels = np.array([0, 0, 0])
    assert expected_calibration_error(p, labels) == pytest.approx(0.35)
    table = reliability(p, labels)
    assert len(table) == 15 and sum(b["rows"] for b in table) == 3
    assert [b["rows"] for b in table if b["rows"]] == [1, 2]


def test_calibration_figures_report_both_sides():
    p = softmax(np.random.default_rng(2).normal(0, 3, size=(200, 4)))
    labels = np.zeros(200, dtype=int)
    figures = calibration_figures(with_temperature(p, 2.0), labels, 2.0)
    assert figures["mean_top1_raw"] == pytest.approx(p.max(axis=1).mean(), abs=1e-4)
    assert figures["mean_top1"] < figures["mean_top1_raw"]
    assert figures["ece_raw"] == pytest.approx(expected_calibration_error(p, labels), abs=1e-4)
