"""Predictions as people and files want them: top genres, the dataset's own line format, CSV."""

import numpy as np

from movie_genre.records import SEPARATOR


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
