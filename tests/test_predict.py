import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_MODEL
from stages.predict import is_labelled, prediction_lines, top_csv, top_genres

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

    from stages.model import build_classifier, build_text_model, save_model

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


def test_command_errors_are_one_clear_line(tmp_path):
    result = predict("--model", tmp_path / "none.keras", "some plot")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'none.keras'}: no model; run `dvc repro train` (or `make repro`) first"
    assert predict().returncode == 2  # neither texts nor --file: argparse's usage error
