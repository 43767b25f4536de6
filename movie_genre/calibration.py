"""Honest probabilities: a temperature fitted on the validation split, and how well calibrated they are.

A temperature T turns probabilities p into softmax(log p / T): T > 1 softens an
overconfident model, the ranking of the genres stays; the model applies the same
formula in its Temperature layer. NumPy does the rest here, but fit_temperature's
exp and log are TensorFlow's, imported when it runs (see there).
"""

import numpy as np

BINS = 15  # expected calibration error's equal-width confidence bins (Guo et al., 2017)
TINY = 1e-12


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    logits = np.log(np.maximum(probabilities, TINY)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.maximum(probabilities[np.arange(len(labels)), labels], TINY)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The temperature that minimises the validation rows' negative log-likelihood.

    The likelihood is unimodal in log T, so a golden-section search over log T
    finds it; 60 steps narrow [low, high] far below the 4 digits kept. The
    temperature goes into the model's bytes, and the search compares likelihoods
    that end up a last bit apart, so its exp and log are TensorFlow's (Eigen's
    code in the pinned wheel, the same on every CPU): NumPy's follow the CPU
    (its AVX-512 kernels where the CPU has them, the C library's elsewhere).
    """
    loss = temperature_loss(probabilities, labels)
    a, b = _fixed("log", np.array([low, high]))
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    loss_c, loss_d = loss(c), loss(d)
    for _ in range(60):
        if loss_c < loss_d:
            b, d, loss_d = d, c, loss_c
            c = b - ratio * (b - a)
            loss_c = loss(c)
        else:
            a, c, loss_c = c, d, loss_d
            d = a + ratio * (b - a)
            loss_d = loss(d)
    return round(float(_fixed("exp", (a + b) / 2)), 4)


def temperature_loss(probabilities: np.ndarray, labels: np.ndarray):
    """The validation rows' negative log-likelihood at temperature exp(log_t), as a function of log_t."""
    log_p = _fixed("log", np.maximum(np.asarray(probabilities, np.float64), TINY))
    shifted = log_p - log_p.max(axis=1, keepdims=True)
    picked = shifted[np.arange(len(labels)), labels]

    def loss(log_t) -> float:  # mean over rows of log(sum_j exp(s_j / T)) - s_label / T
        t = _fixed("exp", log_t)
        return float((_fixed("log", _fixed("exp", shifted / t).sum(axis=1)) - picked / t).mean())

    return loss


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


def calibration_figures(probabilities: np.ndarray, labels: np.ndarray, temperature: float, digits: int = 4) -> dict:
    """ECE and mean top-1 probability of the model's (calibrated) probabilities and of
    the same before the temperature (`_raw`)."""
    raw = with_temperature(probabilities, 1 / temperature)  # undoes softmax(log p / T)
    return {
        "ece": round(expected_calibration_error(probabilities, labels), digits),
        "mean_top1": round(float(probabilities.max(axis=1).mean()), digits),
        "ece_raw": round(expected_calibration_error(raw, labels), digits),
        "mean_top1_raw": round(float(raw.max(axis=1).mean()), digits),
    }


def plot_reliability(probabilities: np.ndarray, labels: np.ndarray, temperature: float, path, title: str) -> None:
    """Accuracy against mean top-1 probability per bin, before and after the temperature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from movie_genre.scoring import save_png

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfectly calibrated")
    raw = with_temperature(probabilities, 1 / temperature)
    curves = (("before (T = 1)", raw, "#c44e52"), (f"after (T = {temperature:g})", probabilities, "#4c72b0"))
    for name, p, colour in curves:
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
