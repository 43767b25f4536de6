"""The real pipeline through DVC, in a fresh copy of the repository."""

import json
import platform
import re
import shlex

import pytest
import yaml
from conftest import ROOT, dvc, run, stages_run

pytestmark = pytest.mark.slow

STAGES = ["parse", "clean", "tokenize", "corpus", "word_vectors", "train", "evaluate", "baseline", "predict"]
FIGURES = ("accuracy", "macro_f1", "weighted_f1")
# Where oneDNN's AVX2 kernels run (any x86-64 CPU with AVX2 or newer) the model is
# byte for byte the committed one; elsewhere (ARM) only close to it.
TOLERANCE = 0.03
# The README's one short command for a table of experiments.
README_EXP_SHOW = shlex.split(
    re.search(r"^dvc exp show --no-pager (.+)$", (ROOT / "README.md").read_text(encoding="utf-8"), re.M).group(1)
)


def portable_cpu() -> bool:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return " avx2" in f.read()
    except OSError:
        return True  # x86-64 without /proc (macOS): every Mac that runs TensorFlow 2.21 has AVX2


def test_repro_runs_every_stage_and_writes_every_output(repo, first_run):
    # A fresh clone holds baseline's outputs in git, up to date: DVC need not rerun it.
    assert sorted(stages_run(first_run)) == sorted(set(STAGES) - {"baseline"})
    assert "Stage 'baseline' didn't change, skipping" in first_run
    assert stages_run(first_run).index("train") < stages_run(first_run).index("evaluate")
    dvc_yaml = yaml.safe_load((repo / "dvc.yaml").read_text())
    for stage in dvc_yaml["stages"].values():
        for out in stage.get("outs", []) + stage.get("metrics", []):
            path = next(iter(out)) if isinstance(out, dict) else out
            assert (repo / path).exists(), path
    assert not list(repo.rglob(".partial-*"))


def test_metrics_have_the_promised_shape(repo, first_run):
    metrics = json.loads((repo / "metrics/metrics.json").read_text())
    assert list(metrics) == ["test", "val"]
    assert list(metrics["test"]) == [*FIGURES, "ece", "mean_top1", "ece_raw", "mean_top1_raw"]
    assert list(metrics["val"]) == [
        *FIGURES, "best_epoch", "epochs_run", "temperature", "mean_top1_raw", "mean_top1"
    ]
    assert metrics["val"]["temperature"] > 0 and 0 <= metrics["test"]["ece"] <= 1
    assert 1 <= metrics["val"]["best_epoch"] <= metrics["val"]["epochs_run"]
    per_genre = json.loads((repo / "metrics/per_genre.json").read_text())
    assert len(per_genre) == 27
    assert sum(g["support"] for g in per_genre.values()) == 3670
    assert all(set(g) == {"precision", "recall", "f1", "support"} for g in per_genre.values())
    report = (repo / "metrics/classification_report.txt").read_text()
    assert all(genre in report for genre in per_genre)
    ledger = json.loads((repo / "metrics/parse.json").read_text())
    for counts in ledger.values():
        assert counts["lines_read"] == counts["rows_accepted"] + sum(counts["rows_rejected"].values()) + counts["blank_lines"]


def test_the_corpus_ledger_accounts_for_every_description(repo, first_run):
    import pyarrow.parquet as pq

    ledger = json.loads((repo / "metrics/corpus.json").read_text())
    read = sum(1 for _ in open(repo / "data/external/movie_descriptions/descriptions.tsv", encoding="utf-8")) - 1
    assert ledger["rows_read"] == read
    dropped = ledger["dropped_same_as_train"] + ledger["dropped_same_as_test"] + ledger["dropped_empty_after_cleaning"]
    assert ledger["rows_kept"] == read - dropped == pq.read_metadata(repo / "data/corpus/texts.parquet").num_rows


def test_baseline_is_scored_like_the_lstm(repo, first_run):
    baseline = json.loads((repo / "metrics/baseline.json").read_text())
    assert list(baseline) == ["baseline", "baseline_val"]
    assert list(baseline["baseline"]) == list(baseline["baseline_val"]) == list(FIGURES)
    assert 0 < baseline["baseline"]["accuracy"] <= 1
    per_genre = json.loads((repo / "metrics/baseline_per_genre.json").read_text())
    assert set(per_genre) == set(json.loads((repo / "metrics/per_genre.json").read_text()))


def test_predict_labels_every_line_of_the_unlabelled_test_file_in_order(repo, first_run):
    lines = (repo / "data/raw/test_data.txt").read_text(encoding="utf-8").splitlines()
    predictions = (repo / "data/predictions/test_predictions.txt").read_text(encoding="utf-8").splitlines()
    genres = set(json.loads((repo / "metrics/per_genre.json").read_text()))
    assert len(predictions) == len(lines)
    for line, prediction in zip(lines, predictions):
        record_id, title, _ = (field.strip() for field in line.split(" ::: ", 2))
        assert prediction.rsplit(" ::: ", 1)[0] == f"{record_id} ::: {title}"
        assert prediction.rsplit(" ::: ", 1)[1] in genres
    top = (repo / "data/predictions/test_top3.csv").read_text().splitlines()
    assert top[0] == "id,genre_1,probability_1,genre_2,probability_2,genre_3,probability_3"
    assert len(top) == len(lines) + 1
    assert [row.split(",")[1] for row in top[1:]] == [p.rsplit(" ::: ", 1)[1] for p in predictions]


@pytest.mark.skipif(not portable_cpu(), reason="not an x86-64 CPU with AVX2: compared within tolerance instead")
def test_default_params_reproduce_the_committed_results_byte_for_byte(repo, first_run):
    """Same data and params, same outputs: dvc.lock and metrics match what is committed."""
    committed = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    produced = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for stage in STAGES:
        assert produced[stage].get("outs") == committed[stage].get("outs"), stage
    for name in ("metrics.json", "per_genre.json", "baseline.json", "classification_report.txt"):
        assert (repo / "metrics" / name).read_text() == (ROOT / "metrics" / name).read_text(), name


@pytest.mark.skipif(portable_cpu(), reason="an x86-64 CPU with AVX2: compared byte for byte instead")
def test_default_params_reproduce_the_committed_results_within_tolerance(repo, first_run):
    committed = json.loads((ROOT / "metrics/metrics.json").read_text())
    produced = json.loads((repo / "metrics/metrics.json").read_text())
    for split in ("test", "val"):
        for key in FIGURES:
            assert produced[split][key] == pytest.approx(committed[split][key], abs=TOLERANCE), (split, key)
    assert (repo / "metrics/baseline.json").read_text() == (ROOT / "metrics/baseline.json").read_text()


def test_dvc_commands_read_cleanly(repo, first_run):
    """No load failure and no `!` for the committed revision; the README's table fits 120 columns."""
    diff = dvc(repo, "metrics", "diff", "HEAD")
    assert "failed to load" not in diff.lower()
    shown = run(repo, "env", "COLUMNS=120", "dvc", "exp", "show", "--no-pager", *README_EXP_SHOW)
    assert "!" not in shown and "failed to load" not in shown.lower()
    assert max(len(line) for line in shown.splitlines()) <= 120
    header = next(line for line in shown.splitlines() if "Experiment" in line).split()
    assert header[1:5] == ["test.accuracy", "test.macro_f1", "val.accuracy", "val.macro_f1"], header


def test_second_repro_runs_nothing(repo, first_run):
    output = dvc(repo, "repro")
    assert stages_run(output) == []
    assert "Data and pipelines are up to date" in output


def test_a_train_param_reruns_only_train_and_evaluate_and_old_params_come_from_the_run_cache(repo, first_run):
    default_epochs = yaml.safe_load((repo / "params.yaml").read_text())["train"]["epochs"]
    output = dvc(repo, "exp", "run", "-S", "train.epochs=1")
    assert sorted(stages_run(output)) == ["evaluate", "predict", "train"]
    assert json.loads((repo / "metrics/training/metrics.json").read_text())["step"] == 0  # one epoch
    output = dvc(repo, "exp", "run", "-S", f"train.epochs={default_epochs}")
    assert stages_run(output) == ["evaluate"]  # its metrics live in git, so DVC never run-caches it
    assert "Stage 'train' is cached - skipping run" in output
