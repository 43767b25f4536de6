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
COPIED = [
    "dvc.yaml", "params.yaml", "stages", "scripts", ".dvc/config", ".dvc/.gitignore", ".dvcignore",
    ".gitignore", "data/raw.dvc", "data/.gitignore", "data/external/nltk_data.dvc",
    "data/external/.gitignore", "data/raw", "data/external/nltk_data",
]
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


def copy_repo(repo: Path) -> Path:
    """Copy the project's tracked files and pulled inputs into `repo`, a git repository."""
    for name in COPIED:
        source, target = ROOT / name, repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    run(repo, sys.executable, "scripts/offline_plots_template.py", ".dvc/offline-plots.html")
    run(repo, "git", "init", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "copy")
    return repo


@pytest.fixture(scope="session")
def repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="session")
def first_run(repo):
    return dvc(repo, "repro")
