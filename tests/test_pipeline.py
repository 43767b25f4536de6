"""The real pipeline through DVC, in a temporary copy of the repository."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COPIED = [
    "dvc.yaml", "params.yaml", "stages", ".dvc/config", ".dvc/.gitignore", ".dvcignore", ".gitignore",
    "data/raw.dvc", "data/.gitignore", "data/external/nltk_data.dvc", "data/external/.gitignore",
    "data/raw", "data/external/nltk_data",
]
STAGES = ["parse", "clean", "tokenize", "train", "evaluate"]


def run(repo, *args):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    result = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def stages_run(output):
    return re.findall(r"Running stage '(\w+)'", output)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("repo")
    for name in COPIED:
        source, target = ROOT / name, repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    run(repo, "git", "init", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "copy")
    return repo


@pytest.fixture(scope="module")
def first_run(repo):
    return run(repo, sys.executable, "-m", "dvc", "repro")


def test_repro_runs_every_stage_and_writes_every_output(repo, first_run):
    assert stages_run(first_run) == STAGES
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
    shown = json.loads(run(repo, sys.executable, "-m", "dvc", "metrics", "show", "--json"))
    assert shown  # DVC finds the declared metrics


def test_default_params_reproduce_the_committed_results(repo, first_run):
    """Same data and params, same outputs: dvc.lock and metrics match what is committed."""
    committed = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    produced = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for stage in STAGES:
        assert produced[stage].get("outs") == committed[stage].get("outs"), stage
    assert (repo / "metrics/metrics.json").read_text() == (ROOT / "metrics/metrics.json").read_text()


def test_second_repro_runs_nothing(repo, first_run):
    output = run(repo, sys.executable, "-m", "dvc", "repro")
    assert stages_run(output) == []
    assert "Data and pipelines are up to date" in output


def test_a_train_param_reruns_only_train_and_evaluate_and_old_params_come_from_the_run_cache(repo, first_run):
    default_epochs = yaml.safe_load((repo / "params.yaml").read_text())["train"]["epochs"]
    output = run(repo, sys.executable, "-m", "dvc", "exp", "run", "-S", "train.epochs=1")
    assert stages_run(output) == ["train", "evaluate"]
    assert json.loads((repo / "metrics/training/metrics.json").read_text())["step"] == 0  # one epoch
    output = run(repo, sys.executable, "-m", "dvc", "exp", "run", "-S", f"train.epochs={default_epochs}")
    assert stages_run(output) == ["evaluate"]  # its metrics live in git, so DVC never run-caches it
    assert "Stage 'train' is cached - skipping run" in output
