"""A temporary copy of the repository, with the pulled inputs, in which the real
pipeline runs through DVC once per test session."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Pulled by `make`, not in git: a fresh clone has them after `dvc pull`.
INPUTS = ["data/raw", "data/external/nltk_data", "data/external/movie_descriptions"]
# A tiny classifier for tests that need a real Keras model but not a trained one.
SMALL_MODEL = {
    "embedding_dim": 4, "embedding_trainable": True, "bidirectional": False, "lstm_units": 4,
    "pooling": "last", "dropout": 0.0,
}


def run(repo, *args):
    """Run a command in `repo` with this environment's Python first on PATH; return its output."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    result = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def dvc(repo, *args):
    return run(repo, sys.executable, "-m", "dvc", *args)


def stages_run(output):
    return re.findall(r"Running stage '(\w+)'", output)


def project_files() -> list[str]:
    """What a fresh clone holds: the files git tracks, and new ones it does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_repo(repo: Path) -> Path:
    """A fresh clone of the project in `repo` (a new git repository), with the pulled inputs."""
    for name in project_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    for name in INPUTS:
        shutil.copytree(ROOT / name, repo / name)
    run(repo, sys.executable, "scripts/offline_plots_template.py", ".dvc/offline-plots.html")
    run(repo, sys.executable, "-m", "dvc", "config", "--local", "plots.html_template", "offline-plots.html")
    run(repo, "git", "init", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "copy")
    return repo


def fewer_folds(repo: Path, folds: int = 2) -> None:
    """tokenize.folds set to `folds` in a copy, for a test that trains but asks nothing of the
    default's five folds; tokenize rerun there (a few seconds) unless `dvc repro` will."""
    import yaml

    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["tokenize"]["folds"] = folds
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    if (repo / "data/tokenized").is_dir():
        run(repo, sys.executable, "-m", "stages.tokenize")


@pytest.fixture(scope="session")
def repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="session")
def first_run(repo):
    return dvc(repo, "repro")


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    """Another copy, run up to what `train` reads (tokens, corpus vectors, pretrain's file): for
    the tests that train their own small models, so they need not wait for first_run."""
    prepared = copy_repo(tmp_path_factory.mktemp("prepared"))
    dvc(prepared, "repro", "pretrain")
    return prepared


GROUPED = ("first_run", "prepared")


def pytest_itemcollected(item):
    """With pytest-xdist (`make test` runs two workers), the tests of one session fixture run in
    one worker, so each of the two copies above is made once, each while the other worker works."""
    for fixture in GROUPED:
        if fixture in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(fixture))
            break


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """xdist groups by a suffix it adds to each node id; if that failed (a pytest it does not know),
    every worker would run the pipeline: say so rather than take twice as long."""
    if getattr(config.option, "loadgroup", False):
        lost = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
        if lost:
            raise pytest.UsageError(f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} more): pin the "
                                    "pytest of requirements.txt, or run with -n 0")
