import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_MODEL

from movie_genre.predictions import prediction_lines, top_csv, top_genres
from movie_genre.records import is_labelled

ROOT = Path(__file__).resolve().parents[1]
STOPWORDS = ["the", "and", "of", "it", "was"]
NOTE = ("note: plot {n} ({text!r}) has no word left after cleaning (a-z words that are not stopwords): "
        "its answer is the model's for an empty text\n")
CALIBRATED = "(calibrated probabilities)"
GENRE_LINE = r"  \S+ +\d+\.\d%"  # "  horror  25.1%"


def test_top_genres_most_likely_first():
    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]])
    assert top_genres(probabilities, ["a", "b", "c"], 2) == [
        [("b", 0.7), ("c", 0.2)],
        [("a", 0.5), ("b", 0.25)],
    ]


def test_labelled_files_are_told_from_unlabelled(tmp_path):
    labelled, unlabelled = tmp_path / "l.txt", tmp_path / "u.txt"
    labelled.write_text("\n1 ::: T ::: sci-fi ::: A plot ::: with separators\n")
    unlabelled.write_text("1 ::: T ::: A plot ::: with separators\n")
    assert is_labelled(labelled)
    assert not is_labelled(unlabelled)


def test_output_formats():
    assert prediction_lines([3, 9], ["A (1990)", "B"], ["drama", "war"]) == "3 ::: A (1990) ::: drama\n9 ::: B ::: war\n"
    assert top_csv([3], [[("drama", 0.61234), ("war", 0.3)]]) == (
        "id,genre_1,probability_1,genre_2,probability_2\n3,drama,0.6123,war,0.3000\n"
    )


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    import keras

    from movie_genre.modeling.build import build_classifier, build_text_model
    from movie_genre.modeling.saving import save_model

    keras.utils.set_random_seed(0)
    # The default's layers (both directions, max and mean over time), at a tiny size
    classifier = build_classifier(5, 4, {**SMALL_MODEL, "bidirectional": True, "pooling": "max_mean"})
    model = build_text_model(classifier, ["ghost", "ship", "love"], STOPWORDS, ["drama", "horror", "romance", "war"], 10)
    path = tmp_path_factory.mktemp("model") / "m.keras"
    save_model(model, path)
    return path


def predict(*args):
    return subprocess.run(
        [sys.executable, "-m", "stages.predict", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True,
    )


def test_command_prints_top_k_genres_for_each_text(model_file):
    result = predict("--model", model_file, "--top-k", "2", "A ghost ship.", "Love on a ship.")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    texts = [i for i, line in enumerate(lines) if not line.startswith("  ")]
    assert [lines[i] for i in texts] == ["A ghost ship.", "Love on a ship.", CALIBRATED]
    for start, end in zip(texts, texts[1:]):
        shares = [line.split() for line in answer("\n".join(lines[start:end]))]
        assert len(shares) == 2
        assert all(genre in {"drama", "horror", "romance", "war"} for genre, _ in shares)


def test_command_labels_a_file_line_for_line(model_file, tmp_path):
    source = tmp_path / "test_data.txt"
    source.write_text("5 ::: First ::: A ghost.\n2 ::: Second ::: Love.\n9 ::: Third ::: Ships.\n")
    out, top = tmp_path / "p.txt", tmp_path / "top.csv"
    result = predict("--model", model_file, "--file", source, "--out", out, "--top-csv", top)
    assert result.returncode == 0, result.stderr
    assert [line.rsplit(" ::: ", 1)[0] for line in out.read_text().splitlines()] == [
        "5 ::: First", "2 ::: Second", "9 ::: Third"
    ]
    assert [row.split(",")[0] for row in top.read_text().splitlines()[1:]] == ["5", "2", "9"]


def test_command_prints_only_its_answer(model_file):
    result = predict("--model", model_file, "A lone gunslinger rides into a dusty frontier town.")
    assert result.returncode == 0
    assert result.stderr == ""  # none of TensorFlow's start-up lines
    assert result.stdout.splitlines()[0] == "A lone gunslinger rides into a dusty frontier town."
    help_text = predict("--help")
    assert help_text.returncode == 0 and help_text.stderr == "" and "--top-k" in help_text.stdout


def other_version(model_file, tmp_path):
    """The model as a project whose layers have other names would have saved it."""
    import zipfile

    path = tmp_path / "other.keras"
    with zipfile.ZipFile(model_file) as source, zipfile.ZipFile(path, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "config.json":
                data = data.replace(b"movie_genre>PlotCleaner", b"movie_genre>PlotCleanerV0")
            target.writestr(entry, data)
    return path


def test_each_mistake_is_one_line_naming_the_path_and_the_fix(model_file, tmp_path):
    not_a_model = tmp_path / "notes.keras"
    not_a_model.write_text("not a model")
    missing = tmp_path / "none.keras"
    cases = {
        ("--model", missing, "a plot"):
            f"error: {missing}: no such model; run `dvc repro train` (or `make repro`) first, or give --model",
        ("--model", not_a_model, "a plot"):
            f"error: {not_a_model}: not a Keras .keras model file; give the file `dvc repro train` writes "
            "(models/movie_genre_classification_model.keras)",
        ("--model", tmp_path, "a plot"): f"error: {tmp_path}: not a file; give the path of a model",
        ("--model", model_file, "--file", tmp_path / "none.txt"): f"error: {tmp_path / 'none.txt'}: no such file; check the path",
        ("--model", model_file, "--file", tmp_path): f"error: {tmp_path}: not a file; give the path of a file",
    }
    for args, message in cases.items():
        result = predict(*args)
        assert (result.returncode, result.stderr) == (1, message + "\n"), args
    result = predict("--model", other_version(model_file, tmp_path), "a plot")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path / 'other.keras'}: not a model this version of the project can load (unknown layers: "
        "movie_genre>PlotCleanerV0); retrain it with `dvc repro train`, or use the project's commit that saved it\n"
    )
    usage = predict()  # neither texts nor --file: argparse's usage error
    assert usage.returncode == 2 and usage.stderr.splitlines()[-1].endswith("error: give either plot texts or --file")


def answer(stdout: str) -> list[str]:
    """The genre lines ("  horror  25.1%") of the first plot's answer."""
    lines = stdout.splitlines()[1:]
    lines = lines[: next((i for i, line in enumerate(lines) if not line.startswith("  ")), len(lines))]
    return [line for line in lines if re.fullmatch(GENRE_LINE, line)]


@pytest.mark.slow  # a cold start of the command
def test_a_plot_with_no_word_left_gets_the_empty_texts_answer_and_one_note(model_file):
    empty = ("", "the and of it was", "12345 !!!", "  \t ", "\x01\x07 --- ...")
    result = predict("--model", model_file, *empty, "A ghost ship.")
    assert result.returncode == 0
    assert result.stderr == "".join(NOTE.format(n=n, text=text) for n, text in enumerate(empty, start=1))
    lines = result.stdout.splitlines()
    # Each plot: its text, a line saying why there is no answer, the three likeliest genres
    blocks = [lines[i:i + 5] for i in range(0, 5 * len(empty), 5)]
    assert all(block[1] == "  no evidence: no word left after cleaning; the model's answer for an empty text"
               for block in blocks)
    assert all(re.fullmatch(GENRE_LINE, line) for line in blocks[0][2:])
    assert all(block[2:] == blocks[0][2:] for block in blocks), "a text with no word left got another answer"
    assert lines[5 * len(empty)] == "A ghost ship." and lines[-1].startswith(CALIBRATED[:-1])


@pytest.mark.slow  # a cold start of the command
def test_long_odd_and_control_character_plots_are_answered_quietly(model_file):
    texts = ("ghost ship " * 5000, "Ünïcödé ☃ 🎬 ghost ΣΠΑΡΤΗ ship", "ghost\tship\x0bsails\x1b[31m red",
             "\u200b\u202eghost\ufeff ship")
    result = predict("--model", model_file, *texts)
    assert (result.returncode, result.stderr) == (0, "")
    assert sum(bool(re.fullmatch(GENRE_LINE, line)) for line in result.stdout.splitlines()) == 3 * len(texts)
    assert "no evidence" not in result.stdout


@pytest.mark.slow  # several cold starts of the command
def test_a_file_of_plots_with_no_word_left_is_answered_with_one_note(model_file, tmp_path):
    source = tmp_path / "odd.txt"
    source.write_text("1 ::: T ::: 12345 !!!\n2 ::: U ::: the and of it\n3 ::: V ::: A ghost.\n"
                      f"4 ::: W ::: {'ghost ship ' * 100000}\n5 ::: X ::: ☃ \x07\tghost\n", encoding="utf-8")
    out = tmp_path / "p.txt"
    result = predict("--model", model_file, "--file", source, "--out", out)
    assert result.returncode == 0
    assert result.stderr == (f"note: {source}: 2 plots with no word left after cleaning (ids 1, 2): each gets "
                             "the model's answer for an empty text\n")
    assert len(out.read_text().splitlines()) == 5
    listed = predict("--model", model_file, "--file", source)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 6  # 5 plots and what the figures are


@pytest.mark.slow  # several cold starts of the command
def test_a_file_that_is_no_plot_file_is_one_line_and_exit_1(model_file, tmp_path):
    empty, blank, latin1 = tmp_path / "empty.txt", tmp_path / "blank.txt", tmp_path / "latin1.txt"
    empty.write_bytes(b"")
    blank.write_bytes(b"\n \n")
    latin1.write_bytes(b"1 ::: T ::: caf\xe9 ghost\n")
    cases = {
        empty: f"error: {empty}: no records in 0 lines; is this the right file?",
        blank: f"error: {blank}: no records in 2 lines; is this the right file?",
        latin1: f"error: {latin1}:1: byte 16 is not UTF-8; save the file as UTF-8",
    }
    for path, message in cases.items():
        result = predict("--model", model_file, "--file", path)
        assert (result.returncode, result.stderr, result.stdout) == (1, message + "\n", ""), path


def test_a_low_top_probability_is_called_unsure(model_file):
    from movie_genre.predictions import UNSURE_BELOW

    result = predict("--model", model_file, "A ghost ship.")  # four genres, untrained: near a quarter each
    top = float(answer(result.stdout)[0].split()[-1].rstrip("%")) / 100
    assert top < UNSURE_BELOW
    assert result.stdout.splitlines()[1] == f"  unsure: no genre reaches {UNSURE_BELOW:.0%}, so no answer"
