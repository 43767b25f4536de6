import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_MODEL

from movie_genre.predictions import prediction_lines, top_csv, top_genres
from movie_genre.records import is_labelled

ROOT = Path(__file__).resolve().parents[1]


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
    classifier = build_classifier(5, 4, SMALL_MODEL)
    model = build_text_model(classifier, ["ghost", "ship", "love"], ["the"], ["drama", "horror", "romance", "war"], 10)
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
    assert lines[0] == "A ghost ship." and lines[3] == "Love on a ship."
    for line in lines[1:3] + lines[4:6]:
        genre, share = line.split()
        assert genre in {"drama", "horror", "romance", "war"} and share.endswith("%")


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
