"""A run killed at any moment leaves old outputs or none, and the next run recovers."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_repo, dvc, stages_run

pytestmark = pytest.mark.slow

MODEL = "models/movie_genre_classification_model.keras"


WRITERS = {  # each writes half of something new in place of `target`, then waits to be killed
    "atomic_path": "open(tmp, 'w').write('new, half')",
    "atomic_directory": "(tmp / 'a').write_text('new, half')",
}


@pytest.mark.parametrize("writer", WRITERS)
def test_atomic_write_killed_midway_keeps_the_old_file(tmp_path, writer):
    target = tmp_path / "out"
    if writer == "atomic_directory":
        target.mkdir()
        (target / "a").write_text("old, complete\n")
    else:
        target.write_text("old, complete\n")
    process = subprocess.Popen(
        [sys.executable, "-c", (
            "import time\n"
            f"from movie_genre.files import {writer}\n"
            f"with {writer}({str(target)!r}) as tmp:\n"
            f"    {WRITERS[writer]}; print('writing', flush=True); time.sleep(60)\n"
        )],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout.readline() == "writing\n"
    process.kill()
    process.wait()
    old = target / "a" if writer == "atomic_directory" else target
    assert old.read_text() == "old, complete\n"


def test_atomic_directory_replaces_the_whole_folder_on_success_and_nothing_on_failure(tmp_path):
    from movie_genre.files import atomic_directory

    target = tmp_path / "out"
    target.mkdir()
    (target / "stale").write_text("from an older run")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "new").write_text("half")
        raise RuntimeError("the writer failed")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "stale"]
    with atomic_directory(target) as tmp:
        (tmp / "new").write_text("whole")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["new", "out"]


def test_repro_killed_during_training_recovers_on_the_next_run(prepared, tmp_path):
    repo = copy_repo(tmp_path)
    # The stages before train as a run left them, with its dvc.lock: only train runs here
    for folder in ("data/parsed", "data/cleaned", "data/tokenized", "data/corpus", "models"):
        shutil.copytree(prepared / folder, repo / folder, dirs_exist_ok=True)
    shutil.copy2(prepared / "dvc.lock", repo / "dvc.lock")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    # One short, small training to kill in its second epoch and redo
    params["train"].update(members=1, epochs=2, lstm_units=16, bidirectional=False)
    params["tokenize"]["folds"] = 2  # dvc reruns tokenize before train, in the killed run
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro", "train"], cwd=repo, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 300
    for line in run.stdout:
        if line.startswith("fold 1 of 2, epoch 1:") or time.monotonic() > deadline:
            break
    os.killpg(run.pid, signal.SIGKILL)  # kill -9, DVC and the stage alike
    run.wait()
    assert line.startswith("fold 1 of 2, epoch 1:"), "training never started"

    assert not (repo / MODEL).exists()  # DVC removed the old one; no new one was half-written
    assert not (repo / "metrics/training").exists()
    output = dvc(repo, "repro", "train")
    assert stages_run(output) == ["train"]  # the stages before it had finished and stay done
    assert (repo / MODEL).stat().st_size > 0
    assert "Data and pipelines are up to date" in dvc(repo, "status", "train")
