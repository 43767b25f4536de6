"""The real pipeline through DVC, in a temporary copy of the repository."""

import json

import yaml

from conftest import ROOT, dvc, stages_run

STAGES = ["parse", "clean", "tokenize", "train", "evaluate", "baseline", "predict"]


def test_repro_runs_every_stage_and_writes_every_output(repo, first_run):
    assert sorted(stages_run(first_run)) == sorted(STAGES)
    assert stages_run(first_run).index("train") < stages_run(first_run).index("evaluate")
    dvc_yaml = yaml.safe_load((repo / "dvc.yaml").read_text())
    for stage in dvc_yaml["stages"].values():
        for out in stage.get("outs", []) + stage.get("metrics", []):
            path = next(iter(out)) if isinstance(out, dict) else out
            assert (repo / path).exists(), path
    assert not list(repo.rglob(".partial-*"))


def test_metrics_have_the_promised_shape(repo, first_run):
    metrics = json.loads((repo / "metrics/metrics.json").read_text())
    assert {"accuracy", "macro_f1", "weighted_f1", "per_genre"} <= set(metrics)
    assert len(metrics["per_genre"]) == 27
    assert sum(g["support"] for g in metrics["per_genre"].values()) == 3670
    assert all(set(g) == {"precision", "recall", "f1", "support"} for g in metrics["per_genre"].values())
    report = (repo / "metrics/classification_report.txt").read_text()
    assert all(genre in report for genre in metrics["per_genre"])
    shown = json.loads(dvc(repo, "metrics", "show", "--json"))
    assert shown  # DVC finds the declared metrics


def test_baseline_has_the_same_keys_as_the_lstm(repo, first_run):
    lstm = json.loads((repo / "metrics/metrics.json").read_text())
    baseline = json.loads((repo / "metrics/baseline.json").read_text())
    assert set(baseline) == set(lstm)
    assert set(baseline["per_genre"]) == set(lstm["per_genre"])
    assert 0 < baseline["accuracy"] <= 1


def test_predict_labels_every_line_of_the_unlabelled_test_file_in_order(repo, first_run):
    lines = (repo / "data/raw/test_data.txt").read_text(encoding="utf-8").splitlines()
    predictions = (repo / "data/predictions/test_predictions.txt").read_text(encoding="utf-8").splitlines()
    genres = set(json.loads((repo / "metrics/metrics.json").read_text())["per_genre"])
    assert len(predictions) == len(lines)
    for line, prediction in zip(lines, predictions):
        record_id, title, _ = (field.strip() for field in line.split(" ::: ", 2))
        assert prediction.rsplit(" ::: ", 1)[0] == f"{record_id} ::: {title}"
        assert prediction.rsplit(" ::: ", 1)[1] in genres
    top = (repo / "data/predictions/test_top3.csv").read_text().splitlines()
    assert top[0] == "id,genre_1,probability_1,genre_2,probability_2,genre_3,probability_3"
    assert len(top) == len(lines) + 1
    assert [row.split(",")[1] for row in top[1:]] == [p.rsplit(" ::: ", 1)[1] for p in predictions]


def test_default_params_reproduce_the_committed_results(repo, first_run):
    """Same data and params, same outputs: dvc.lock and metrics match what is committed."""
    committed = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    produced = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for stage in STAGES:
        assert produced[stage].get("outs") == committed[stage].get("outs"), stage
    assert (repo / "metrics/metrics.json").read_text() == (ROOT / "metrics/metrics.json").read_text()


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
