"""Genre predictions from the saved model, for a person or for the `predict` stage.

    python -m stages.predict "A plot summary..." ["another..."] [--top-k 3]
    python -m stages.predict --file data/raw/test_data.txt [--top-k 3]
    python -m stages.predict --file data/raw/test_data.txt --out PREDICTIONS.txt --top-csv TOP.csv

Only models/movie_genre_classification_model.keras is read: the model cleans and
tokenizes raw text itself.  A file may be unlabelled (`id ::: title ::: plot`) or
labelled (`id ::: title ::: genre ::: plot`, the genre is then ignored).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from stages.common import PipelineError, run, write_text
from stages.parse import GENRE_NAME, SEPARATOR, parse_file
from stages.train import MODEL_FILE


def top_genres(probabilities: np.ndarray, genres: list[str], k: int) -> list[list[tuple[str, float]]]:
    """The k most likely genres of each row, most likely first (ties by genre order)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [[(genres[j], float(row[j])) for j in top] for row, top in zip(probabilities, order)]


def is_labelled(path: Path) -> bool:
    """Whether the file's first record has a genre field: `id ::: title ::: genre ::: plot`."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    fields = [field.strip() for field in first.split(SEPARATOR, 3)]
    return len(fields) == 4 and GENRE_NAME.fullmatch(fields[2]) is not None


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


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m stages.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("texts", nargs="*", help="plot summaries to label")
    parser.add_argument("--file", type=Path, help="a ' ::: ' file to label, one record a line")
    parser.add_argument("--top-k", type=int, default=3, help="how many genres to show (default 3)")
    parser.add_argument("--out", type=Path, help="with --file: write `id ::: title ::: genre` lines here")
    parser.add_argument("--top-csv", type=Path, help="with --file: write the top-k genres and probabilities here")
    parser.add_argument("--model", type=Path, default=MODEL_FILE, help=f"default {MODEL_FILE}")
    args = parser.parse_args(argv)
    if bool(args.texts) == bool(args.file):
        parser.error("give either plot texts or --file")
    if (args.out or args.top_csv) and not args.file:
        parser.error("--out and --top-csv go with --file")
    if args.top_k < 1:
        parser.error("--top-k must be at least 1")
    return args


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.model.is_file():
        raise PipelineError(f"{args.model}: no model; run `dvc repro train` (or `make repro`) first")
    from stages.model import genre_names, load_model, predict_texts

    model = load_model(args.model)
    genres = genre_names(model)
    k = min(args.top_k, len(genres))
    if args.texts:
        for text, row in zip(args.texts, top_genres(predict_texts(model, args.texts), genres, k)):
            print(text if len(text) <= 70 else text[:67] + "...")
            for genre, probability in row:
                print(f"  {genre:<12} {probability:6.1%}")
        return

    columns = parse_file(args.file, labelled=is_labelled(args.file))[0].to_pydict()
    ranked = top_genres(predict_texts(model, columns["plot"], columns["title"]), genres, k)
    best = [row[0][0] for row in ranked]
    if args.out:
        write_text(args.out, prediction_lines(columns["id"], columns["title"], best))
    if args.top_csv:
        write_text(args.top_csv, top_csv(columns["id"], ranked))
    if not (args.out or args.top_csv):
        for i, title, row in zip(columns["id"], columns["title"], ranked):
            print(f"{i}{SEPARATOR}{title}{SEPARATOR}" + ", ".join(f"{g} {p:.1%}" for g, p in row))
    else:
        print(f"{args.file}: {len(best)} plots labelled")


if __name__ == "__main__":
    run(main)
