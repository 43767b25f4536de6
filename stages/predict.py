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
from pathlib import Path

from movie_genre import config, runtime
from movie_genre.errors import run
from movie_genre.files import check_readable, write_text
from movie_genre.predictions import (
    answers,
    calibration_note,
    check_model_file,
    empty_after_cleaning,
    empty_note,
    file_answers,
    prediction_lines,
    top_csv,
    top_genres,
)
from movie_genre.records import is_labelled, parse_file


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


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.file:
        check_readable(args.file, "file", "check the path")
        columns = parse_file(args.file, labelled=is_labelled(args.file))[0].to_pydict()
        plots, titles = columns["plot"], columns["title"]
    else:
        plots, titles = args.texts, [""] * len(args.texts)
    check_model_file(args.model)
    runtime.configure()
    with runtime.quiet_start_up():
        from movie_genre.modeling.saving import genre_names, open_model, predict_texts, reads_title, stopwords

        model = open_model(args.model)
        genres = genre_names(model)
        ranked = top_genres(predict_texts(model, plots, titles), genres, min(args.top_k, len(genres)))
    empty = empty_after_cleaning(plots, titles, stopwords(model), reads_title(model))
    if args.texts:
        lines, notes = answers(args.texts, ranked, empty)
        for line in lines:
            print(line)
        for note in notes:
            print(note, file=sys.stderr)
        print(calibration_note(args.model))
        return
    if empty:
        print(empty_note(args.file, columns["id"], empty), file=sys.stderr)
    best = [row[0][0] for row in ranked]
    if args.out:
        write_text(args.out, prediction_lines(columns["id"], columns["title"], best))
    if args.top_csv:
        write_text(args.top_csv, top_csv(columns["id"], ranked))
    if not (args.out or args.top_csv):
        print("\n".join(file_answers(columns["id"], columns["title"], ranked)))
        print(calibration_note(args.model))
    else:
        print(f"{args.file}: {len(best)} plots labelled")


if __name__ == "__main__":
    run(main)
