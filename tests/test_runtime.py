"""TensorFlow's arithmetic is set before its first op, or not at all; its start-up noise is dropped."""

import subprocess
import sys

from conftest import ROOT


def python(code: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}
    )


def test_configure_caps_onednn_before_the_first_op_and_refuses_after_it():
    code = (
        "import os, tensorflow as tf\n"
        "from movie_genre import runtime\n"
        "runtime.configure()\n"  # after the import: oneDNN reads the cap at its first use
        "tf.matmul(tf.ones((8, 8)), tf.ones((8, 8)))\n"
        "print(os.environ['ONEDNN_MAX_CPU_ISA'])\n"
    )
    result = python(code, ONEDNN_VERBOSE="1", ONEDNN_MAX_CPU_ISA="ALL")
    assert result.returncode == 0, result.stderr
    assert "isa:Intel AVX2\n" in result.stdout or "isa:" not in result.stdout  # oneDNN's own report, on x86
    assert result.stdout.splitlines()[-1] == "AVX2"

    late = python("import tensorflow as tf\nfrom movie_genre import runtime\ntf.ones(1)\nruntime.configure()\n")
    assert late.returncode == 1
    assert "RuntimeError: TensorFlow has already run an op" in late.stderr


def test_native_leaves_the_environment_as_it_is():
    code = "import os\nfrom movie_genre import runtime\nruntime.configure('native')\nprint(os.environ.get('ONEDNN_MAX_CPU_ISA'))"
    assert python(code).stdout.strip() == "None"
    assert python(code, ONEDNN_MAX_CPU_ISA="AVX2").stdout.strip() == "AVX2"


def test_quiet_start_up_drops_only_the_start_up_lines():
    code = (
        "import os, sys\n"
        "from movie_genre import runtime\n"
        "with runtime.quiet_start_up():\n"
        "    os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on. You may see...\\n')\n"
        "    os.write(2, b'E0000 cuda_platform.cc:52] failed call to cuInit: INTERNAL\\n')\n"
        "    os.write(2, b'a real error\\n')\n"
        "    print('to stderr too', file=sys.stderr)\n"
        "print('after', file=sys.stderr)\n"
    )
    result = python(code)
    assert result.returncode == 0
    assert result.stderr == "a real error\nto stderr too\nafter\n"
