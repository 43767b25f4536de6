"""The pooling scales (the blend and the calibration in one) and the calibration figures."""

import numpy as np
import pytest

from movie_genre.calibration import (
    calibration_figures,
    expected_calibration_error,
    fit_scales,
    log_probabilities,
    negative_log_likelihood,
    pooled,
    reliability,
    scales_loss,
)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def drawn(probabilities, rng):
    """A label per row, drawn from its probabilities."""
    return (rng.random((len(probabilities), 1)) > probabilities.cumsum(axis=1)).sum(axis=1)


@pytest.mark.parametrize("true_scales", [(0.5, 2.0), (1.0, 0.0), (0.0, 1.5), (2.0, 0.7)])
def test_fit_scales_finds_the_scales_the_labels_were_drawn_with_and_calibrates(true_scales):
    rng = np.random.default_rng(0)
    members = softmax(rng.normal(0, 1.5, size=(20000, 5)))
    wide = rng.normal(0, 1, size=(20000, 5))
    paths = [log_probabilities(members), wide]
    labels = drawn(pooled(paths, true_scales), rng)
    fitted = fit_scales(paths, labels)
    np.testing.assert_allclose(fitted, true_scales, atol=0.06)
    assert expected_calibration_error(pooled(paths, fitted), labels) < 0.02
    assert expected_calibration_error(pooled(paths, (1.0, 1.0)), labels) > 0.02  # the unfitted pool is not


def test_the_fitted_scales_are_the_likeliest_on_a_grid_around_them():
    rng = np.random.default_rng(6)
    paths = [log_probabilities(softmax(rng.normal(size=(400, 27)) * 3)), rng.normal(size=(400, 27))]
    labels = drawn(pooled(paths, (0.6, 1.3)), rng)
    a, c = fit_scales(paths, labels)
    loss = scales_loss(paths, labels)
    best = loss((a, c))[0]
    for da in (-0.01, 0, 0.01):
        for dc in (-0.01, 0, 0.01):
            assert loss((a + da, c + dc))[0] >= best - 1e-12
    # The loss is the negative log-likelihood of the pooled probabilities
    assert best == pytest.approx(negative_log_likelihood(pooled(paths, (a, c)), labels), rel=1e-9)


def test_one_path_is_a_temperature_and_a_gradient_zero_at_the_fit():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, size=(5000, 6))
    labels = drawn(softmax(logits), rng)
    reported = softmax(logits * 2.5)  # overconfident: the fitted scale undoes it
    [scale] = fit_scales([log_probabilities(reported)], labels)
    assert scale == pytest.approx(1 / 2.5, rel=0.05)
    _, gradient, _ = scales_loss([log_probabilities(reported)], labels)(np.array([scale]))
    assert abs(gradient[0]) < 1e-3


def test_expected_calibration_error_by_hand():
    # Two rows in the bin (0.8, 0.8667]: confidence 0.85, one right -> |0.5 - 0.85| = 0.35;
    # one row in (0.6, 0.6667]: confidence 0.65, right -> 0.35. Weighted: 0.35.
    p = np.array([[0.85, 0.15], [0.15, 0.85], [0.65, 0.35]])
    labels = np.array([0, 0, 0])
    assert expected_calibration_error(p, labels) == pytest.approx(0.35)
    table = reliability(p, labels)
    assert len(table) == 15 and sum(b["rows"] for b in table) == 3
    assert [b["rows"] for b in table if b["rows"]] == [1, 2]
    assert calibration_figures(p, labels) == {"ece": 0.35, "mean_top1": round((0.85 + 0.85 + 0.65) / 3, 4)}
