"""TensorFlow's arithmetic is set before its first op, or not at all; its start-up noise is dropped."""

import subprocess
import sys

from conftest import ROOT


def python(code: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}
    )


def test_configure_pins_the_arithmetic_before_tensorflow_starts_and_refuses_after_its_first_op():
    code = (
        "import os\n"
        "from movie_genre import runtime\n"
        "runtime.configure()\n"
        "import tensorflow as tf\n"
        "tf.matmul(tf.ones((8, 8)), tf.ones((8, 8)))\n"
        "print(runtime.describe())\n"
    )
    # Set from outside as another CPU or a user would: configure() wins over each
    result = python(code, ONEDNN_VERBOSE="1", ONEDNN_MAX_CPU_ISA="ALL", TF_ENABLE_ONEDNN_OPTS="1",
                    TF_NUM_INTRAOP_THREADS="8")
    assert result.returncode == 0, result.stderr
    assert "isa:Intel AVX2\n" in result.stdout or "isa:" not in result.stdout  # oneDNN's own report, on x86
    assert result.stdout.splitlines()[-1] == (
        "configured portable; ONEDNN_MAX_CPU_ISA=AVX2 oneDNN ops False intra-op threads 1 "
        "Eigen caches (32768, 524288, 33554432)"
    )

    late = python("import tensorflow as tf\nfrom movie_genre import runtime\ntf.ones(1)\nruntime.configure()\n")
    assert late.returncode == 1
    assert "RuntimeError: TensorFlow has already run an op" in late.stderr


def test_configure_after_importing_tensorflow_needs_its_onednn_ops_off():
    code = "import tensorflow as tf\nfrom movie_genre import runtime\nruntime.configure()\nprint(runtime.describe())\n"
    on = python(code, TF_ENABLE_ONEDNN_OPTS="1")
    assert on.returncode == 1
    assert on.stderr.strip().splitlines()[-1] == (
        "RuntimeError: TensorFlow was imported with its oneDNN ops on (this CPU's default), so its arithmetic "
        "follows the CPU: call movie_genre.runtime.configure() before importing TensorFlow, "
        "or set TF_ENABLE_ONEDNN_OPTS=0 in the environment"
    )
    off = python(code, TF_ENABLE_ONEDNN_OPTS="0")
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip().endswith("intra-op threads 1 Eigen caches (32768, 524288, 33554432)")


def test_eigen_blocks_by_the_pinned_cache_sizes_in_every_library_that_holds_them():
    code = (
        "from movie_genre import runtime, eigen\n"
        "runtime.configure()\n"
        "import tensorflow as tf\n"
        "tf.linalg.qr(tf.ones((300, 300)))\n"  # Eigen's first product: it would read CPUID now
        "print(eigen.cache_sizes())\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    pinned = (32768, 524288, 33554432)
    assert result.stdout.strip() == str({"libtensorflow_cc.so.2": pinned, "libtensorflow_framework.so.2": pinned})


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


def test_a_process_started_in_a_quiet_block_does_not_hold_its_end():
    # multiprocessing's resource tracker keeps the pipe open until the parent ends: the
    # block once waited 5 s for its end of file
    code = (
        "import os, subprocess, sys, time\n"
        "from movie_genre import runtime\n"
        "with runtime.quiet_start_up():\n"
        "    child = subprocess.Popen(['sleep', '30'])\n"
        "    print('in the block', file=sys.stderr)\n"
        "    start = time.monotonic()\n"
        "print(f'after {time.monotonic() - start:.1f} s', file=sys.stderr)\n"
        "child.kill()\n"
    )
    result = python(code)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert lines[0] == "in the block"
    assert lines[1].startswith("after ") and float(lines[1].split()[1]) < 2
