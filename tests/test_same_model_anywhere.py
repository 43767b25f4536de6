"""One model on every machine: what differs from one CPU to another (instruction set,
TensorFlow's oneDNN switch, the cache sizes Eigen blocks its products by, the cores and
threads), emulated here from outside, changes neither the arithmetic fingerprint nor the
trained model; the corpus's word vectors stay the same whatever kernels NumPy and
OpenBLAS pick.

Each emulation is shown to be real: with the native arithmetic and that one pin left
out, the fingerprint does change. The default ensemble's members are independent
trainings (seeds seed, seed+1000, ...), so one member stands for them here.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_repo, fewer_folds

from movie_genre import runtime
from movie_genre.modeling.fingerprint import REFERENCE

pytestmark = pytest.mark.slow

MODEL = "models/movie_genre_classification_model.keras"
VECTORS = "data/corpus/word_vectors.parquet"
NUMPY_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"  # NumPy 2.4's AVX-512 dispatch targets
PINNED_CACHES = ",".join(map(str, runtime.PORTABLE_CACHES))
OTHER_CACHES = "49152,1048576,402653184"  # what Eigen reads on an AMD Zen 5 (L3 as KVM reports it)
AS_ANOTHER_CPU = str(ROOT / "tests/as_another_cpu.py")
ONE_CORE = hasattr(os, "sched_setaffinity")


def has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def run(repo: Path, module: str, *args, env=None, one_core=False, caches=None) -> subprocess.CompletedProcess:
    """`python -m module args` in `repo`, as another CPU would run it: `env` on top of ours,
    pinned to one core, and with Eigen told other cache sizes (L1,L2,L3) before it starts."""
    command = [sys.executable, "-m", module, *args]
    if caches:
        command = [sys.executable, AS_ANOTHER_CPU, caches, module, *args]
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    return subprocess.run(command, cwd=repo, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          preexec_fn=pin)


def check_fingerprint(env=None, one_core=False, caches=None, arithmetic="portable"):
    return run(ROOT, "movie_genre.modeling.fingerprint", "--check", str(REFERENCE), "--arithmetic", arithmetic,
               env=env, one_core=one_core, caches=caches)


# All that another CPU may differ in at once (one run each: a change would show, and which pin
# let it through is test_each_pin_is_needed's to say)
ANOTHER_CPU = {
    "one core, other caches, 16 threads and every instruction set asked for": (
        {"TF_NUM_INTRAOP_THREADS": "16", "TF_NUM_INTEROP_THREADS": "16", "ONEDNN_MAX_CPU_ISA": "ALL"}, True,
        OTHER_CACHES),
    # (other caches cannot join it: tests/as_another_cpu.py imports TensorFlow first)
    "oneDNN ops on from outside (an AVX-512 VNNI CPU's default)": ({"TF_ENABLE_ONEDNN_OPTS": "1"}, False, None),
}


@pytest.mark.parametrize("cpu", ANOTHER_CPU)
def test_the_fingerprint_is_the_committed_one_as_another_cpu(cpu):
    env, one_core, caches = ANOTHER_CPU[cpu]
    if one_core and not ONE_CORE:
        pytest.skip("needs Linux to pin a process to one core")
    result = check_fingerprint(env, one_core, caches)
    assert result.returncode == 0, result.stderr


# The native arithmetic with the pins set by hand: all four give the reference; leave one out
# and some op differs, so the emulation above could have shown a difference.
BY_HAND = {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTRAOP_THREADS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"}
LEFT_OUT = {
    "none": (BY_HAND, PINNED_CACHES),
    "Eigen's cache sizes": (BY_HAND, OTHER_CACHES),
    "one thread": ({**BY_HAND, "TF_NUM_INTRAOP_THREADS": "2"}, PINNED_CACHES),
    "oneDNN ops off": ({**BY_HAND, "TF_ENABLE_ONEDNN_OPTS": "1"}, PINNED_CACHES),
    "the AVX2 cap": ({**BY_HAND, "ONEDNN_MAX_CPU_ISA": "ALL"}, PINNED_CACHES),
}


@pytest.mark.parametrize("pin", LEFT_OUT)
def test_each_pin_is_needed(pin):
    env, caches = LEFT_OUT[pin]
    if pin == "the AVX2 cap" and not has_avx512():
        pytest.skip("this CPU's best is AVX2 already: the cap changes nothing here")
    result = check_fingerprint(env, caches=caches, arithmetic="native")
    if pin == "none":
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1, f"without {pin} the fingerprint did not change"
        assert "computes differently" in result.stderr


def set_train_params(repo: Path, **values) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def train(repo: Path, **how) -> str:
    result = run(repo, "stages.train", **how)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return hashlib.md5((repo / MODEL).read_bytes()).hexdigest()


def test_one_member_is_the_same_model_as_another_cpu(prepared, tmp_path):
    other = copy_repo(tmp_path)
    for folder in ("data/cleaned", "data/tokenized", "data/corpus", "models"):
        shutil.copytree(prepared / folder, other / folder, dirs_exist_ok=True)
    set_train_params(other, members=1, epochs=1)  # an epoch's 30 steps of every op tell as well as twenty epochs
    fewer_folds(other)  # every op of the folds' fits, the blend's and the final fit's, in 3 trainings

    as_is = train(other)  # every core, this CPU
    # One core, other caches, a thread count and an instruction set asked for from outside
    elsewhere = train(other, env={"TF_NUM_INTRAOP_THREADS": "8", "ONEDNN_MAX_CPU_ISA": "ALL"},
                      one_core=ONE_CORE, caches=OTHER_CACHES)
    onednn_on = train(other, env={"TF_ENABLE_ONEDNN_OPTS": "1", "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512})
    assert elsewhere == as_is, "one core and other caches trained another model"
    assert onednn_on == as_is, "TensorFlow's oneDNN switch set on from outside trained another model"


def test_corpus_word_vectors_are_the_same_whatever_kernels_numpy_and_openblas_use(prepared, tmp_path):
    other = copy_repo(tmp_path)
    shutil.copytree(prepared / "data/corpus", other / "data/corpus", dirs_exist_ok=True)
    committed = hashlib.md5((prepared / VECTORS).read_bytes()).hexdigest()
    # OpenBLAS's kernels for an AVX-512, an AVX2 and an AVX CPU (each runs on this one), NumPy's
    # own without AVX-512, and one core (OpenBLAS then splits no product across threads).
    runs = [({"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512}, False),
            ({"OPENBLAS_CORETYPE": "Sandybridge"}, ONE_CORE)]
    if has_avx512():
        runs.append(({"OPENBLAS_CORETYPE": "SkylakeX"}, False))
    for env, one_core in runs:
        result = run(other, "stages.word_vectors", env=env, one_core=one_core)
        assert result.returncode == 0, result.stderr[-2000:]
        assert hashlib.md5((other / VECTORS).read_bytes()).hexdigest() == committed, env


def test_members_side_by_side_and_one_after_another_on_one_core_make_the_same_file(prepared, tmp_path):
    other = copy_repo(tmp_path)
    for folder in ("data/cleaned", "data/tokenized", "data/corpus", "models"):
        shutil.copytree(prepared / folder, other / folder, dirs_exist_ok=True)
    set_train_params(other, members=2, epochs=1, lstm_units=16)  # the layout is what is tested, not the shapes
    fewer_folds(other)
    side_by_side = train(other, env={"MOVIE_GENRE_JOBS": "2"})
    # As many at once as cores: on one core, one after another (without a way to pin, asked for)
    result = run(other, "stages.train", one_core=ONE_CORE, env=None if ONE_CORE else {"MOVIE_GENRE_JOBS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    # 2 folds x 2 members, and the final fit's 2
    assert "trainings: 6, 1 at once (one process and one thread each)" in result.stdout.splitlines()
    assert hashlib.md5((other / MODEL).read_bytes()).hexdigest() == side_by_side
