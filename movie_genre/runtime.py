"""What TensorFlow must be told before it runs its first op: the same arithmetic on every CPU, and quiet.

Nothing happens at import: the entry points that use TensorFlow call
configure() first (modeling.train.train does too), and it imports TensorFlow.
"""

import os
import sys
import threading
from contextlib import contextmanager

# What follows the CPU in TensorFlow's arithmetic, and what `portable` pins it to
# (docs/reproducibility.md has the evidence):
# - oneDNN's kernels (in Eigen's matrix products too) follow the instruction set: capped at
#   AVX2, which every x86-64 CPU of the last decade has.
PORTABLE_ISA = "AVX2"
# - TensorFlow's oneDNN ops are on or off by the CPU (on only with AVX512_VNNI, AVX512_BF16,
#   AVX_VNNI or AMX): always off, so every CPU runs the same kernels.
# - Eigen blocks products and decompositions by the cache sizes CPUID reports: every CPU
#   blocks as an AMD Zen 3 does (L1d 32 KiB, L2 512 KiB, L3 32 MiB).
PORTABLE_CACHES = (32 * 1024, 512 * 1024, 32 * 1024 * 1024)
# - Large products split their work by the thread count: one thread per process, the
#   same on 1 core or 64; more cores train more members at once instead.
PORTABLE_THREADS = 1
ARITHMETIC = ("portable", "native")
# TensorFlow writes a random uuid into each SavedModel's fingerprint.pb (serving needs none);
# this flag, read when TensorFlow starts, leaves the file out (stages/export.py sets it).
NO_SAVED_MODEL_FINGERPRINT = ("TF_FLAG_SAVED_MODEL_FINGERPRINTING", "false")

# TensorFlow's C++ start-up lines, written before its logging starts (so
# TF_CPP_MIN_LOG_LEVEL cannot hide them); they tell a person nothing.
START_UP_NOISE = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
    "Could not find cuda drivers on your machine",
    "failed call to cuInit",
    "oneDNN supports DT_BOOL only on platforms with AVX-512",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "Unable to register cu",
    "TF-TRT Warning",
)


_configured: str | None = None  # the arithmetic configure() set in this process


def _tensorflow_started() -> bool:
    if "tensorflow" not in sys.modules:
        return False
    import tensorflow as tf

    threads = tf.config.threading
    try:  # a public probe: the thread settings freeze when TensorFlow's runtime starts
        threads.set_inter_op_parallelism_threads(threads.get_inter_op_parallelism_threads())
    except RuntimeError:
        return True
    return False


def onednn_ops_on() -> bool | None:
    """Whether TensorFlow runs its oneDNN ops (decided when it is imported); None if unknown."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def configure(arithmetic: str = "portable") -> None:
    """Set TensorFlow's arithmetic before its first op, and quiet its logging.

    `portable`: the same weights on any x86-64 Linux CPU with AVX2 or newer and
    any number of cores (the pins above; call it before TensorFlow is imported,
    or at least before its first op with TF_ENABLE_ONEDNN_OPTS=0 set).
    `native`: whatever this CPU and environment give (the fastest kernels; the
    environment is left as it is).
    """
    global _configured
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {ARITHMETIC}, not {arithmetic!r}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own INFO and WARNING lines
    if _configured == arithmetic:
        return
    if _tensorflow_started():
        raise RuntimeError(
            "TensorFlow has already run an op, so its arithmetic is fixed: call "
            "movie_genre.runtime.configure() before using TensorFlow (the stages do)"
        )
    if arithmetic == "portable":
        os.environ["ONEDNN_MAX_CPU_ISA"] = PORTABLE_ISA  # read at oneDNN's first use
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"  # read when TensorFlow is imported
        with quiet_start_up():
            import tensorflow as tf
        if onednn_ops_on():
            raise RuntimeError(
                "TensorFlow was imported with its oneDNN ops on (this CPU's default), so its arithmetic "
                "follows the CPU: call movie_genre.runtime.configure() before importing TensorFlow, "
                "or set TF_ENABLE_ONEDNN_OPTS=0 in the environment"
            )
        from movie_genre import eigen

        if sys.platform.startswith("linux"):
            eigen.set_cache_sizes(*PORTABLE_CACHES)
        else:  # the promise is for x86-64 Linux (docs/reproducibility.md)
            print(f"note: on {sys.platform} Eigen blocks by this CPU's caches: results may differ "
                  "from the committed ones", file=sys.stderr)
        tf.config.threading.set_intra_op_parallelism_threads(PORTABLE_THREADS)
    _configured = arithmetic


def describe() -> str:
    """The arithmetic in force in this process, as a line a person can compare across machines."""
    import tensorflow as tf

    from movie_genre import eigen

    try:
        caches = sorted(set(eigen.cache_sizes().values()), key=str)
    except eigen.EigenCachesError as error:
        caches = [str(error)]
    return (f"configured {_configured}; ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA')} "
            f"oneDNN ops {onednn_ops_on()} intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()} "
            f"Eigen caches {' '.join(map(str, caches))}")


# Written through the pipe when the block ends: the forwarder has passed on what came before
# it. Processes started in the block hold the pipe too (multiprocessing's resource tracker
# until this process ends), so its end of file comes too late to wait for.
_END_OF_BLOCK = b"\0movie_genre.runtime: end of a quiet block\0\n"


@contextmanager
def quiet_start_up():
    """Drop TensorFlow's start-up lines from stderr (file descriptor 2), pass every other line on as it comes."""
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    out_fd = os.dup(saved)  # the forwarder's own copy of the real stderr
    passed_on = threading.Event()

    def forward():  # until every process holding the pipe has closed it
        with os.fdopen(read_end, "rb") as lines, os.fdopen(out_fd, "wb", buffering=0) as out:
            for line in lines:
                if _END_OF_BLOCK in line:
                    line = line.replace(_END_OF_BLOCK, b"")
                    passed_on.set()
                if line and not any(noise.encode() in line for noise in START_UP_NOISE):
                    out.write(line)

    threading.Thread(target=forward, daemon=True).start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.write(2, _END_OF_BLOCK)
        os.dup2(saved, 2)
        os.close(saved)
        passed_on.wait(timeout=5)
