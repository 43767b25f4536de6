"""Predictions as people and files want them: top genres, the dataset's own line format, CSV."""

import json

import numpy as np
import pyarrow as pa

from movie_genre import config
from movie_genre.records import SEPARATOR
from movie_genre.text import clean_texts, model_text

# A top genre below this is no answer: the command says the model is unsure. Of 27
# genres, the validation split's mean top probability is about a half.
UNSURE_BELOW = 0.4


def empty_after_cleaning(plots, titles, stopwords, with_title: bool) -> set[int]:
    """The rows whose text has no word left after the model's cleaning."""
    texts = model_text(pa.array(titles, pa.string()), pa.array(plots, pa.string()), with_title)
    cleaned = clean_texts(texts, stopwords)
    return {i for i, text in enumerate(cleaned.to_pylist()) if not text}


def calibration_note(model_path) -> str:
    """What the figures are, and how well calibrated the committed model is (metrics/metrics.json)."""
    note = "(calibrated probabilities"
    try:
        if model_path == config.MODEL_FILE:
            ece = json.loads(config.METRICS_FILE.read_text(encoding="utf-8"))["test"]["ece"]
            note += f": on the test rows they are off by {ece:.1%} on average ({config.METRICS_FILE}, ece)"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return note + ")"


def top_genres(probabilities: np.ndarray, genres: list[str], k: int) -> list[list[tuple[str, float]]]:
    """The k most likely genres of each row, most likely first (ties by genre order)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [[(genres[j], float(row[j])) for j in top] for row, top in zip(probabilities, order)]


def prediction_lines(ids, titles, best) -> str:
    """The dataset's own format: `id ::: title ::: genre`, one line per record."""
    return "".join(f"{i}{SEPARATOR}{t}{SEPARATOR}{b}\n" for i, t, b in zip(ids, titles, best))


def top_csv(ids, ranked) -> str:
    k = len(ranked[0]) if ranked else 0
    header = ["id"] + [f"{name}_{n}" for n in range(1, k + 1) for name in ("genre", "probability")]
    rows = [",".join(header)]
    for i, row in zip(ids, ranked):
        rows.append(",".join([str(i)] + [f"{g},{p:.4f}" for g, p in row]))
    return "\n".join(rows) + "\n"
