"""Run a module as a CPU with other cache sizes would: Eigen (in TensorFlow) is made to
believe the caches are L1,L2,L3 bytes, as if CPUID had said so, before the module runs.

    python tests/as_another_cpu.py L1,L2,L3 MODULE [ARGS...]

TensorFlow is imported first for that, so its oneDNN ops are set off here, as
configure() would set them (another CPU's oneDNN switch is emulated from the
environment instead).
"""

import os
import runpy
import sys

sys.path.insert(0, os.getcwd())
caches, module = [int(size) for size in sys.argv[1].split(",")], sys.argv[2]
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import tensorflow  # noqa: E402, F401  (loads the libraries that hold Eigen; runs no op)

from movie_genre import eigen  # noqa: E402

eigen.set_cache_sizes(*caches)
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
