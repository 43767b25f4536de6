"""Genre predictions from the saved model, for a person or for the `predict` stage.

    python -m stages.predict "A plot summary..." ["another..."] [--top-k 3]
    python -m stages.predict --file data/raw/test_data.txt [--top-k 3]
    python -m stages.predict --file data/raw/test_data.txt --out PREDICTIONS.txt --top-csv TOP.csv

Only the model file is read: it cleans and tokenizes raw text itself.  A file may
be unlabelled (`id ::: title ::: plot`) or labelled (the genre is then ignored).
The figures are calibrated probabilities; below UNSURE_BELOW for the top genre
the answer says the model is unsure. A plot with no word left after cleaning
gets the model's answer for an empty text (its learned prior) and a note on stderr.
"""

import argparse
import sys
import zipfile
from pathlib import Path

from movie_genre import config, runtime
from movie_genre.errors import PipelineError, run
from movie_genre.files import write_text
from movie_genre.predictions import (
    UNSURE_BELOW,
    calibration_note,
    empty_after_cleaning,
    prediction_lines,
    top_csv,
    top_genres,
)
from movie_genre.records import SEPARATOR, is_labelled, parse_file


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m stages.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("texts", nargs="*", help="plot summaries to label")
    parser.add_argument("--file", type=Path, help="a ' ::: ' file to label, one record a line")
    parser.add_argument("--top-k", type=int, default=3, help="how many genres to show (default 3)")
    parser.add_argument("--out", type=Path, help="with --file: write `id ::: title ::: genre` lines here")
    parser.add_argument("--top-csv", type=Path, help="with --file: write the top-k genres and probabilities here")
    parser.add_argument("--model", type=Path, default=config.MODEL_FILE, help=f"default {config.MODEL_FILE}")
    args = parser.parse_args(argv)
    if bool(args.texts) == bool(args.file):
        parser.error("give either plot texts or --file")
    if (args.out or args.top_csv) and not args.file:
        parser.error("--out and --top-csv go with --file")
    if args.top_k < 1:
        parser.error("--top-k must be at least 1")
    return args


def printable(text: str) -> str:
    """The text as a terminal may show it: control characters (escapes, tabs, line breaks) as spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def check_readable(path: Path, what: str, fix: str) -> None:
    if not path.exists():
        raise PipelineError(f"{path}: no such {what}; {fix}")
    if not path.is_file():
        raise PipelineError(f"{path}: not a file; give the path of a {what}")
    try:
        path.open("rb").close()
    except OSError as error:
        raise PipelineError(f"{path}: cannot be read ({error.strerror}); check its permissions") from error


def load(path: Path):
    """The saved model, or one line saying why this file is not one we can use."""
    check_readable(path, "model", "run `dvc repro train` (or `make repro`) first, or give --model")
    if not zipfile.is_zipfile(path):
        raise PipelineError(
            f"{path}: not a Keras .keras model file; give the file `dvc repro train` writes ({config.MODEL_FILE})"
        )
    from movie_genre.modeling.saving import genre_names, load_model, unknown_layers

    try:
        model = load_model(path)
        return model, genre_names(model)
    except (TypeError, ValueError, KeyError) as error:
        unknown = unknown_layers(path)
        reason = f"unknown layers: {', '.join(unknown)}" if unknown else f"{type(error).__name__} from Keras"
        raise PipelineError(
            f"{path}: not a model this version of the project can load ({reason}); "
            "retrain it with `dvc repro train`, or use the project's commit that saved it"
        ) from error


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.file:
        check_readable(args.file, "file", "check the path")
        columns = parse_file(args.file, labelled=is_labelled(args.file))[0].to_pydict()
        plots, titles = columns["plot"], columns["title"]
    else:
        plots, titles = args.texts, [""] * len(args.texts)
    runtime.configure()
    with runtime.quiet_start_up():
        model, genres = load(args.model)
        from movie_genre.modeling.saving import predict_texts, reads_title, stopwords

        k = min(args.top_k, len(genres))
        ranked = top_genres(predict_texts(model, plots, titles), genres, k)
    empty = empty_after_cleaning(plots, titles, stopwords(model), reads_title(model))
    if args.texts:
        for number, (text, row) in enumerate(zip(args.texts, ranked), 1):
            text = printable(text)
            print(text if len(text) <= 70 else text[:67] + "...")
            if number - 1 in empty:
                print("  no evidence: no word left after cleaning; the model's answer for an empty text")
                given = args.texts[number - 1]
                shown = given if len(given) <= 30 else given[:27] + "..."  # repr: control characters escaped
                print(f"note: plot {number} ({shown!r}) has no word left after cleaning (a-z words that are "
                      "not stopwords): its answer is the model's for an empty text", file=sys.stderr)
            elif row[0][1] < UNSURE_BELOW:
                print(f"  unsure: no genre reaches {UNSURE_BELOW:.0%}, so no answer")
            for genre, probability in row:
                print(f"  {genre:<12} {probability:6.1%}")
        print(calibration_note(args.model))
        return
    if empty:
        ids = ", ".join(str(columns["id"][i]) for i in sorted(empty)[:10]) + (", ..." if len(empty) > 10 else "")
        print(f"note: {args.file}: {len(empty)} plot{'s' * (len(empty) > 1)} with no word left after cleaning "
              f"(ids {ids}): each gets the model's answer for an empty text", file=sys.stderr)
    best = [row[0][0] for row in ranked]
    if args.out:
        write_text(args.out, prediction_lines(columns["id"], columns["title"], best))
    if args.top_csv:
        write_text(args.top_csv, top_csv(columns["id"], ranked))
    if not (args.out or args.top_csv):
        for i, title, row in zip(columns["id"], columns["title"], ranked):
            unsure = " (unsure)" if row[0][1] < UNSURE_BELOW else ""
            print(f"{i}{SEPARATOR}{printable(title)}{SEPARATOR}" + ", ".join(f"{g} {p:.1%}" for g, p in row) + unsure)
        print(calibration_note(args.model))
    else:
        print(f"{args.file}: {len(best)} plots labelled")


if __name__ == "__main__":
    run(main)
