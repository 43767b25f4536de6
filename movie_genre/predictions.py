"""Predictions as people and files want them: top genres, the dataset's own line format, CSV."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from movie_genre import config
from movie_genre.errors import PipelineError
from movie_genre.files import check_readable
from movie_genre.records import SEPARATOR
from movie_genre.text import clean_texts, model_text

# A top genre below this is no answer: the command says the model is unsure. Of 27
# genres, the validation split's mean top probability is about a half.
UNSURE_BELOW = 0.4


def check_model_file(path) -> None:
    """One line if `path` cannot be a saved model (missing, not a file, not a .keras zip), said
    before TensorFlow starts."""
    check_readable(Path(path), "model", "run `dvc repro train` (or `make repro`) first, or give --model")
    if not zipfile.is_zipfile(path):
        raise PipelineError(f"{path}: not a Keras .keras model file; give the file `dvc repro train` writes "
                            f"({config.MODEL_FILE})")


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


def printable(text: str) -> str:
    """The text as a terminal may show it: control characters (escapes, tabs, line breaks) as spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def answers(texts, ranked, empty: set[int], details=None) -> tuple[list[str], list[str]]:
    """For plots typed on the command line: the lines to print, and the notes for stderr.
    `details`, if given, holds more lines for each plot, printed after its genres."""
    lines, notes = [], []
    for number, (text, row) in enumerate(zip(texts, ranked), 1):
        shown = printable(text)
        lines.append(shown if len(shown) <= 70 else shown[:67] + "...")
        if number - 1 in empty:
            lines.append("  no evidence: no word left after cleaning; the model's answer for an empty text")
            given = text if len(text) <= 30 else text[:27] + "..."  # repr: control characters escaped
            notes.append(f"note: plot {number} ({given!r}) has no word left after cleaning (a-z words that are "
                         "not stopwords): its answer is the model's for an empty text")
        elif row[0][1] < UNSURE_BELOW:
            lines.append(f"  unsure: no genre reaches {UNSURE_BELOW:.0%}, so no answer")
        lines += [f"  {genre:<12} {probability:6.1%}" for genre, probability in row]
        if details:
            lines += details[number - 1]
    return lines, notes


def file_answers(ids, titles, ranked) -> list[str]:
    """For a file's records on the terminal: `id ::: title ::: genre p, ...` lines."""
    return [f"{i}{SEPARATOR}{printable(title)}{SEPARATOR}" + ", ".join(f"{g} {p:.1%}" for g, p in row)
            + (" (unsure)" if row[0][1] < UNSURE_BELOW else "") for i, title, row in zip(ids, titles, ranked)]


def empty_note(path, ids, empty: set[int]) -> str:
    """The note for a file's plots with no word left after cleaning (the first ten ids)."""
    shown = ", ".join(str(ids[i]) for i in sorted(empty)[:10]) + (", ..." if len(empty) > 10 else "")
    return (f"note: {path}: {len(empty)} plot{'s' * (len(empty) > 1)} with no word left after cleaning "
            f"(ids {shown}): each gets the model's answer for an empty text")
