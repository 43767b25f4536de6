"""This CPU computes the default model's operations as the CPU that made the committed model did.

tests/arithmetic/fingerprint.txt is `python -m movie_genre.modeling.fingerprint` on the
machine that made dvc.lock; where this test passes, `dvc repro` reproduces dvc.lock's bytes.
"""

import platform
import subprocess
import sys

import pytest
from conftest import ROOT

from movie_genre.modeling.fingerprint import REFERENCE, first_difference

PROMISED = sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def fingerprint(*args, env=None, prefix=()):
    import os

    result = subprocess.run([*prefix, sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    return result


@pytest.mark.skipif(not PROMISED, reason="the same bytes are promised on x86-64 Linux only")
def test_this_cpu_computes_the_committed_fingerprint():
    result = fingerprint("-m", "movie_genre.modeling.fingerprint", "--check", str(REFERENCE))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"arithmetic: this CPU computes every op of {REFERENCE} alike: dvc repro makes dvc.lock's bytes\n"


def test_the_reference_names_its_cpu_and_arithmetic():
    lines = (ROOT / REFERENCE).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# cpu: ") and " flags " in lines[0]
    assert lines[1] == ("# arithmetic: configured portable; ONEDNN_MAX_CPU_ISA=AVX2 oneDNN ops False "
                        "intra-op threads 1 Eigen caches (32768, 524288, 33554432)")
    names = [line.rsplit(None, 1)[0] for line in lines[2:]]
    assert len(names) == len(set(names)) > 40
    assert any("qr" in name for name in names) and any("classifier step" in name for name in names)
    assert {"scales fit", "wide linear svc fit", "text model forward, 32 texts"} <= set(names)


def test_first_difference_names_the_first_op_that_differs_or_is_missing():
    reference = ["# cpu: x", "a 111", "b 222", "c 333"]
    assert first_difference(["# cpu: y", "a 111", "b 222", "c 333"], reference) is None
    assert first_difference(["a 111", "b 999", "c 000"], reference) == "'b' is 999 here, 222 in the reference"
    assert first_difference(["a 111", "c 333"], reference) == "'b' is missing here, 222 in the reference"
    assert first_difference(reference[1:] + ["d 444"], reference) == "'d' is not in the reference"
    # A subset (the default shapes, as emulated CPUs run): the reference's other lines are not asked for
    assert first_difference(["a 111", "c 333"], reference, partial=True) is None
    assert first_difference(["a 111", "c 000"], reference, partial=True) == "'c' is 000 here, 333 in the reference"


@pytest.mark.slow  # a second fingerprint run
def test_a_differing_cpu_is_told_which_op_and_on_which_cpus(tmp_path):
    lines = (ROOT / REFERENCE).read_text(encoding="utf-8").splitlines()
    changed = [line if i != 2 else line.rsplit(None, 1)[0] + " 000000000000" for i, line in enumerate(lines)]
    other = tmp_path / "other.txt"
    other.write_text("\n".join(changed) + "\n", encoding="utf-8")
    # the default shapes (a subset, which --check compares as one) hold the first line's op too
    result = fingerprint("-m", "movie_genre.modeling.fingerprint", "--check", str(other), "--default-shapes")
    assert result.returncode == 1
    err = result.stderr.splitlines()
    name = lines[2].rsplit(None, 1)[0]
    assert err[0].startswith(f"arithmetic: this CPU computes differently from {other}: '{name}' is ")
    assert err[0].endswith(" here, 000000000000 in the reference")
    assert err[1].startswith("  this CPU: ") and " flags " in err[1]
    assert err[2].startswith("  configured portable; ")
    assert err[3] == "  the reference's CPU: " + lines[0][len("# cpu: "):]
    assert err[4] == "  so dvc repro trains another model than dvc.lock's (docs/reproducibility.md)"
