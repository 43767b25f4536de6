"""Honest probabilities: the pooling scales fitted on the out-of-fold rows, and how well
calibrated the result is.

The saved model's probabilities are softmax(sum_j theta_j x_j) over its paths'
scores x_j (the members' log-probabilities, the wide path's scores), with the
scales theta fitted here by the out-of-fold rows' negative log-likelihood: both
the blend and the calibration, so no temperature follows (modeling/layers.py Blend).
NumPy does the arithmetic, but the exp and log are TensorFlow's, imported when
they run (see _fixed).
"""

import numpy as np

BINS = 15  # expected calibration error's equal-width confidence bins (Guo et al., 2017)
TINY = 1e-12
NEWTON_STEPS = 50


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """log p in float64, floored as the Blend layer floors it; TensorFlow's log."""
    return _fixed("log", np.maximum(np.asarray(probabilities, np.float64), TINY))


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.maximum(probabilities[np.arange(len(labels)), labels], TINY)).mean())


def scales_loss(scores: list[np.ndarray], labels: np.ndarray):
    """The rows' negative log-likelihood of softmax(sum_j theta_j scores_j), with its gradient
    and Hessian in theta, as a function of theta. Sums are elementwise products summed
    (no BLAS, whose order follows the CPU)."""
    scores = [np.asarray(x, np.float64) for x in scores]
    rows = np.arange(len(labels))

    def loss(theta):
        pooled = sum(t * x for t, x in zip(theta, scores))
        shifted = pooled - pooled.max(axis=1, keepdims=True)
        exp = _fixed("exp", shifted)
        total = exp.sum(axis=1, keepdims=True)
        p = exp / total
        value = float((_fixed("log", total[:, 0]) - shifted[rows, labels]).mean())
        expected = [(p * x).sum(axis=1) for x in scores]  # E_p[x_j] per row
        gradient = np.array([(e - x[rows, labels]).mean() for e, x in zip(expected, scores)])
        hessian = np.array([[((p * xj * xl).sum(axis=1) - ej * el).mean() for xl, el in zip(scores, expected)]
                            for xj, ej in zip(scores, expected)])
        return value, gradient, hessian

    return loss


def fit_scales(scores: list[np.ndarray], labels: np.ndarray, digits: int = 4) -> list[float]:
    """The scales theta that minimise the rows' negative log-likelihood of
    softmax(sum_j theta_j scores_j): Newton's method, each step halved until the loss
    falls (the loss is convex in theta), from theta = 0; rounded to `digits` decimals.

    The scales go into the model's bytes, so the steps compare losses that may end up
    a last bit apart: their exp and log are TensorFlow's (Eigen's code in the pinned
    wheel, the same on every CPU); NumPy's follow the CPU.
    """
    loss = scales_loss(scores, labels)
    theta = np.zeros(len(scores))
    value, gradient, hessian = loss(theta)
    for _ in range(NEWTON_STEPS):
        step = _newton_step(hessian, gradient)
        for _ in range(30):
            candidate = theta - step
            new_value, new_gradient, new_hessian = loss(candidate)
            if new_value <= value:
                break
            step = step / 2
        else:
            break
        converged = value - new_value < 1e-13
        theta, value, gradient, hessian = candidate, new_value, new_gradient, new_hessian
        if converged:
            break
    return [round(float(t), digits) for t in theta]


def _newton_step(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """H^-1 g for one or two scales, written out (LAPACK's order follows the CPU)."""
    if len(gradient) == 1:
        return gradient / max(hessian[0, 0], TINY)
    if len(gradient) != 2:
        raise ValueError("fit_scales pools one or two paths")
    (a, b), (c, d) = hessian
    determinant = max(a * d - b * c, TINY)
    return np.array([d * gradient[0] - b * gradient[1], a * gradient[1] - c * gradient[0]]) / determinant


def pooled(scores: list[np.ndarray], theta) -> np.ndarray:
    """softmax(sum_j theta_j scores_j), as NumPy, for the figures (the model computes it in float32)."""
    z = sum(t * np.asarray(x, np.float64) for t, x in zip(theta, scores))
    exp = np.exp(z - z.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _fixed(name: str, values):
    """TensorFlow's float64 exp or log of `values`, as NumPy."""
    import tensorflow as tf

    return getattr(tf.math, name)(tf.constant(values, tf.float64)).numpy()


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict]:
    """Per equal-width bin of top-1 probability: rows, mean top-1 probability, accuracy."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    # Bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 goes to bin 0.
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    table = []
    for b in range(bins):
        rows = which == b
        table.append({
            "low": b / bins, "high": (b + 1) / bins, "rows": int(rows.sum()),
            "confidence": float(confidence[rows].mean()) if rows.any() else None,
            "accuracy": float(correct[rows].mean()) if rows.any() else None,
        })
    return table


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Sum over bins of |accuracy - mean confidence|, weighted by the bin's share of rows."""
    table = reliability(probabilities, labels, bins)
    return float(sum(b["rows"] * abs(b["accuracy"] - b["confidence"]) for b in table if b["rows"]) / len(labels))


def calibration_figures(probabilities: np.ndarray, labels: np.ndarray, digits: int = 4) -> dict:
    """ECE and mean top-1 probability."""
    return {
        "ece": round(expected_calibration_error(probabilities, labels), digits),
        "mean_top1": round(float(probabilities.max(axis=1).mean()), digits),
    }


def plot_reliability(curves: dict, path, title: str) -> None:
    """Accuracy against mean top-1 probability per bin, for each (probabilities, labels) in `curves`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from movie_genre.scoring import save_png

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfectly calibrated")
    for (name, (p, labels)), colour in zip(curves.items(), ("#4c72b0", "#dd8452", "#55a868")):
        table = [b for b in reliability(p, labels) if b["rows"]]
        ax.plot([b["confidence"] for b in table], [b["accuracy"] for b in table], marker="o", color=colour,
                label=f"{name}: ECE {expected_calibration_error(p, labels):.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean top-1 probability in the bin")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    save_png(fig, path)
