"""The benchmark still runs end to end (tiny size: this checks that it works, not its figures)."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def test_bench_runs_the_stages_and_the_naive_reference(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run(
        [sys.executable, "-m", "bench.run", "--rows", "3000", "--no-training", "--repeat", "1", "--json", str(out)],
        cwd=ROOT, check=True, capture_output=True,
    )
    results = json.loads(out.read_text())
    assert results["files"] == {"train_data.txt": 1500, "test_data_solution.txt": 1500}
    assert list(results["stages"]) == ["parse", "clean", "tokenize", "corpus", "word_vectors"]
    prepare = [results["stages"][name] for name in ("parse", "clean", "tokenize")]
    assert all(stage["rows"] == 3000 for stage in prepare)
    corpus_rows = sum(1 for _ in open(ROOT / "data/external/movie_descriptions/descriptions.tsv", "rb")) - 1
    assert results["stages"]["word_vectors"]["rows"] == corpus_rows
    assert all(stage["peak_rss_mb"] > 0 for stage in results["stages"].values())
    assert all(stage["wall_s"] > 0 for stage in results["stages"].values())
    # At 3,000 rows "work" is tenths of a second, wall less start-up: on a loaded
    # machine it can come out just below zero, so only its presence is checked.
    assert results["prepare"]["naive_s"] > 0 and isinstance(results["prepare"]["ours_work_s"], float)
    assert results["dvc_repro_noop"]["wall_s"] < results["dvc_repro_to_tokenize"]["wall_s"]


def test_the_predict_bench_runs_and_reports_against_its_targets(tmp_path):
    import keras
    from conftest import SMALL_MODEL

    from movie_genre.modeling.build import build_classifier, build_text_model
    from movie_genre.modeling.saving import save_model

    keras.utils.set_random_seed(0)  # a tiny model of the default's layers: the bench's figures are not checked
    classifier = build_classifier(6, 3, {**SMALL_MODEL, "bidirectional": True, "pooling": "max_mean"})
    model = tmp_path / "m.keras"
    save_model(build_text_model(classifier, ["ghost", "ship", "love", "town"], ["the"], ["a", "b", "c"], 20), model)
    out = tmp_path / "predict.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.predict", "--model", str(model),
         "--plots", "300", "--repeat", "1", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["plots"] == 300 and figures["one_plot_cold_s"] > 0 and figures["file_plots_per_s"] > 0
    assert "target at most 6 s" in result.stdout and "target at least 1,500" in result.stdout
    assert figures["explain_one_plot_cold_s"] > 0 and figures["explain_plots"] == 10  # --explain's cold starts


def test_the_scaled_files_folds_hold_every_copy_of_a_row_in_one_fold(tmp_path):
    import numpy as np
    import yaml

    from bench.run import scaled_dataset
    from movie_genre.records import parse_file
    from movie_genre.vocabulary import assign_folds

    scaled_dataset(8000, tmp_path, seed=3)
    table = parse_file(tmp_path / "train_data.txt", labelled=True)[0].to_pydict()
    genres = sorted(set(table["genre"]))
    labels = np.array([genres.index(g) for g in table["genre"]])
    split = yaml.safe_load((ROOT / "params.yaml").read_text())["tokenize"]
    plots = np.array(table["plot"], dtype=object)
    for folds in (split["folds"], 1):  # the default, and the held-out split the README advises at full size
        assigned = assign_folds(labels, plots.tolist(), folds, split["val_split"], split["seed"])
        held, kept = set(plots[assigned == 0]), set(plots[assigned != 0])
        assert not held & kept
        assert len(held) > 50 and len(kept) > 500  # rows were drawn with copies on each side, from many
    genuine = parse_file(ROOT / "data/raw/train_data.txt", labelled=True)[0].to_pydict()
    assert held | kept <= set(genuine["plot"])
