"""The outside corpus's IMDb-sourced texts as a guard: does a model's top genre name any of the
film's own IMDb genres? (scripts/outside_hits.py; docs/experiments.md)

Not a quality figure: those texts also feed the word vectors. The rule: a source's
genre names lowercased with spaces as '-', film-noir counted as crime; a text none
of whose genres is among the model's is left out.
"""

import csv
from pathlib import Path

IMDB_SOURCES = ("imdb_top_1000", "imdb_movie_data_1000", "movielens_imdb_plots")
SAME_AS = {"film-noir": "crime"}


def imdb_genres(names: str) -> set[str]:
    """'Action, Film Noir' -> {'action', 'crime'}."""
    genres = {name.strip().lower().replace(" ", "-") for name in names.split(",") if name.strip()}
    return {SAME_AS.get(genre, genre) for genre in genres}


def imdb_texts(path: Path, genres: list[str]) -> tuple[list[str], list[set[str]]]:
    """The IMDb-sourced texts of descriptions.tsv whose genres include one of `genres`, with those genres."""
    known = set(genres)
    texts, genre_sets = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["source"] in IMDB_SOURCES:
                held = imdb_genres(row["genres"] or "") & known
                if held:
                    texts.append(row["text"])
                    genre_sets.append(held)
    return texts, genre_sets


def any_genre_hit(predicted: list[str], genre_sets: list[set[str]]) -> float:
    """The share of texts whose predicted genre is any of their own."""
    return sum(genre in held for genre, held in zip(predicted, genre_sets)) / len(genre_sets)
