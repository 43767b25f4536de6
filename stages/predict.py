"""Genre predictions from the saved model, for a person or for the `predict` stage.

    python -m stages.predict "A plot summary..." ["another..."] [--top-k 3]
    python -m stages.predict --explain "A plot summary..." ["another..."]
    python -m stages.predict --file data/raw/test_data.txt [--top-k 3]
    python -m stages.predict --file data/raw/test_data.txt --out PREDICTIONS.txt --top-csv TOP.csv

Only the model file is read: it cleans and tokenizes raw text itself.  A file may
be unlabelled (`id ::: title ::: plot`) or labelled (the genre is then ignored).
The figures are calibrated probabilities; below UNSURE_BELOW for the top genre
the answer says the model is unsure. A plot with no word left after cleaning
gets the model's answer for an empty text (its learned prior) and a note on stderr.
--explain adds, for each plot's top genre, each path's own probabilities, the
n-grams behind the wide path's score and the words the LSTM leans on most
(movie_genre/explain.py).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from movie_genre import config, runtime
from movie_genre.errors import PipelineError, run
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

TOP_NGRAMS = 10  # n-grams listed one by one; the others share one line
TOP_WORDS = 5


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m stages.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("texts", nargs="*", help="plot summaries to label")
    parser.add_argument("--file", type=Path, help="a ' ::: ' file to label, one record a line")
    parser.add_argument("--top-k", type=int, default=3, help="how many genres to show (default 3)")
    parser.add_argument("--out", type=Path, help="with --file: write `id ::: title ::: genre` lines here")
    parser.add_argument("--top-csv", type=Path, help="with --file: write the top-k genres and probabilities here")
    parser.add_argument("--model", type=Path, default=config.MODEL_FILE, help=f"default {config.MODEL_FILE}")
    parser.add_argument("--explain", action="store_true",
                        help="with plot texts: why the top genre (each path, the n-grams, the LSTM's words)")
    args = parser.parse_args(argv)
    if args.explain and (args.file or not args.texts):
        raise PipelineError("--explain explains plots given on the command line"
                            + (", not --file" if args.file else "") + ': give them, e.g. '
                            '`python -m stages.predict --explain "A plot summary..."`')
    if bool(args.texts) == bool(args.file):
        parser.error("give either plot texts or --file")
    if (args.out or args.top_csv) and not args.file:
        parser.error("--out and --top-csv go with --file")
    if args.top_k < 1:
        parser.error("--top-k must be at least 1")
    return args


def explanation_lines(explanation, genres: list[str], shown: list[str]) -> list[str]:
    """The lines --explain adds below a plot's genres (`shown`: those listed)."""
    from movie_genre.explain import head_and_rest  # imports TensorFlow: only after runtime.configure()

    e, (a, c) = explanation, explanation.scales
    top, wide = genres[e.genre], e.scores is not None
    lines = [f"  why {top}: the model is softmax({a:.3g} log p + {c:.3g} s); p: the LSTM's probabilities, "
             "s: the wide path's scores" if wide else
             f"  why {top}: the model is softmax({a:.3g} log p); p: the LSTM's probabilities "
             "(no wide path: the model was trained with train.wide: none)"]
    lines.append(f"    {'probabilities':<28} {'model':>8} {'LSTM p':>8}"
                 + (f" {'wide':>8}   (wide: softmax({c:.3g} s), the wide path alone)" if wide else ""))
    for name in shown:
        g = genres.index(name)
        lines.append(f"    {name:<28} {e.probabilities[g]:8.1%} {e.member[g]:8.1%}"
                     + (f" {e.wide_alone[g]:8.1%}" if wide else ""))
    if wide:
        score = e.scores[e.genre]
        lines.append(f"  wide path: s({top}) = {score:+.4f}, the sum of each n-gram's tf-idf x weight and the bias "
                     f"(x {c:.3g}: in the model's logit)")
        head, others, rest = head_and_rest(e.ngrams, TOP_NGRAMS)
        rows = head + ([(f"the other {others} n-gram{'s' * (others > 1)}", rest)] if others else [])
        for name, term in [*rows, ("bias", e.bias), ("s", score)]:
            lines.append(f"    {name:<28} {term:+8.4f} {c * term:+8.3f}")
    if not e.words:
        return [*lines, f"  LSTM: p({top}) = {e.member[e.genre]:.1%} with no word to read (none left after cleaning)"]
    words = len(e.cleaned.split())
    lines.append(f"  LSTM: p({top}) = {e.member[e.genre]:.1%} from the {e.words_read} words it reads"
                 + (f" (the first of {words})" if words > e.words_read else "")
                 + "; without a word (each occurrence), in points:")
    for word in e.words[:TOP_WORDS]:
        lines.append(f"    {word.word:<28} {-100 * word.drop:+8.2f} -> {e.member[e.genre] - word.drop:.1%}"
                     + ("" if word.known else "  (a word it does not know)"))
    return lines


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
        if args.explain:
            from movie_genre.explain import explain

            # The pooled probabilities come from the same run as the paths': one trace of the graph, not two
            explained = explain(model, plots, titles)
            probabilities = np.array([explanation.probabilities for explanation in explained])
        else:
            probabilities = predict_texts(model, plots, titles)
        ranked = top_genres(probabilities, genres, min(args.top_k, len(genres)))
    empty = empty_after_cleaning(plots, titles, stopwords(model), reads_title(model))
    if args.texts:
        details = [explanation_lines(e, genres, [g for g, _ in row]) for e, row in zip(explained, ranked)] \
            if args.explain else None
        lines, notes = answers(args.texts, ranked, empty, details)
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
