"""One model on every machine: the default model is byte for byte the same whatever the
instruction set oneDNN could use and however many cores there are (issue: weights followed the CPU).

The default ensemble's members are independent trainings (seeds seed, seed+1000, ...),
so one member stands for them here: the same test at a fifth of the time.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_repo

pytestmark = pytest.mark.slow

MODEL = "models/movie_genre_classification_model.keras"
NUMPY_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"  # NumPy 2.4's AVX-512 dispatch targets


def has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def train(repo: Path, env: dict, one_core: bool = False) -> str:
    """Run the train stage as dvc would; return the model file's md5."""
    command = [sys.executable, "-m", "stages.train"]
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    result = subprocess.run(command, cwd=repo, env={**os.environ, **env}, capture_output=True, text=True, preexec_fn=pin)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return hashlib.md5((repo / MODEL).read_bytes()).hexdigest()


def set_train_params(repo: Path, **values) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux to pin a process to one core")
def test_default_model_is_the_same_on_another_instruction_set_and_on_one_core(repo, first_run, tmp_path):
    other = copy_repo(tmp_path)
    shutil.copytree(repo / "data/tokenized", other / "data/tokenized", dirs_exist_ok=True)
    set_train_params(other, members=1)

    as_is = train(other, {})  # every core, this CPU, portable arithmetic
    one_core = train(other, {}, one_core=True)
    # A CPU whose best is AVX2, running with no cap of ours (train.arithmetic: native): on
    # an AVX-512 CPU oneDNN and NumPy's own kernels are held to AVX2 from outside, as if
    # the CPU had no more.
    set_train_params(other, arithmetic="native")
    avx2_cpu = train(other, {"ONEDNN_MAX_CPU_ISA": "AVX2", "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512})

    assert one_core == as_is, "one core trained another model than every core"
    assert avx2_cpu == as_is, (
        "an AVX2 CPU trains another model than the portable arithmetic on this one"
        + (" (this CPU has AVX-512)" if has_avx512() else "")
    )
