"""One model on every machine: the default model is byte for byte the same whatever the
instruction set oneDNN could use and however many cores there are (issue: weights followed the CPU);
so are the corpus's word vectors, whatever kernels NumPy and OpenBLAS pick.

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
VECTORS = "data/corpus/word_vectors.parquet"
NUMPY_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"  # NumPy 2.4's AVX-512 dispatch targets


def has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def run_stage(repo: Path, stage: str, out: str, env: dict, one_core: bool = False) -> str:
    """Run a stage as dvc would; return its output file's md5."""
    command = [sys.executable, "-m", f"stages.{stage}"]
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    result = subprocess.run(command, cwd=repo, env={**os.environ, **env}, capture_output=True, text=True, preexec_fn=pin)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return hashlib.md5((repo / out).read_bytes()).hexdigest()


def train(repo: Path, env: dict, one_core: bool = False) -> str:
    return run_stage(repo, "train", MODEL, env, one_core)


def set_train_params(repo: Path, **values) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux to pin a process to one core")
def test_default_model_is_the_same_on_another_instruction_set_and_on_one_core(repo, first_run, tmp_path):
    other = copy_repo(tmp_path)
    for folder in ("data/tokenized", "data/corpus"):
        shutil.copytree(repo / folder, other / folder, dirs_exist_ok=True)
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


def test_corpus_word_vectors_are_the_same_whatever_kernels_numpy_and_openblas_use(repo, first_run, tmp_path):
    other = copy_repo(tmp_path)
    shutil.copytree(repo / "data/corpus", other / "data/corpus", dirs_exist_ok=True)
    committed = hashlib.md5((repo / VECTORS).read_bytes()).hexdigest()
    # OpenBLAS's kernels for an AVX-512, an AVX2 and an AVX CPU (each runs on this one), NumPy's
    # own without AVX-512, and one core (OpenBLAS then splits no product across threads).
    runs = [({"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512}, False),
            ({"OPENBLAS_CORETYPE": "Sandybridge"}, hasattr(os, "sched_setaffinity"))]
    if has_avx512():
        runs.append(({"OPENBLAS_CORETYPE": "SkylakeX"}, False))
    for env, one_core in runs:
        assert run_stage(other, "word_vectors", VECTORS, env, one_core) == committed, env
