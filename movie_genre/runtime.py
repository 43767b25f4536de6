"""What TensorFlow must be told before it runs its first op: the same arithmetic on every CPU, and quiet.

Nothing here imports TensorFlow, and nothing happens at import: the entry points
that use TensorFlow call configure() first (modeling.train.train does too).
"""

import os
import sys
import threading
from contextlib import contextmanager

# oneDNN, which does TensorFlow's matrix products on x86, picks its kernels by
# the CPU's instruction set when it first runs, and AVX2 and AVX-512 kernels add
# in different orders: the trained weights would follow the CPU. Every x86-64
# CPU of the last decade has AVX2, so capped there they are the same everywhere.
PORTABLE_ISA = "AVX2"
ARITHMETIC = ("portable", "native")

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


def configure(arithmetic: str = "portable") -> None:
    """Set TensorFlow's arithmetic before its first op, and quiet its logging.

    `portable`: oneDNN held to AVX2, the same weights on any x86-64 CPU with AVX2
    or newer.  `native`: whatever this CPU and environment give (the fastest
    kernels; ONEDNN_MAX_CPU_ISA, if set, is left as it is).
    """
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {ARITHMETIC}, not {arithmetic!r}")
    if arithmetic == "portable" and os.environ.get("ONEDNN_MAX_CPU_ISA") != PORTABLE_ISA:
        if _tensorflow_started():
            raise RuntimeError(
                "TensorFlow has already run an op, so its arithmetic is fixed: call "
                "movie_genre.runtime.configure() before using TensorFlow (the stages do)"
            )
        os.environ["ONEDNN_MAX_CPU_ISA"] = PORTABLE_ISA
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own INFO and WARNING lines


@contextmanager
def quiet_start_up():
    """Drop TensorFlow's start-up lines from stderr (file descriptor 2), pass every other line on as it comes."""
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    out_fd = os.dup(saved)  # the forwarder's own copy of the real stderr

    def forward():
        with os.fdopen(read_end, "rb") as lines, os.fdopen(out_fd, "wb", buffering=0) as out:
            for line in lines:
                if not any(noise.encode() in line for noise in START_UP_NOISE):
                    out.write(line)

    forwarder = threading.Thread(target=forward, daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the forwarder reads to the end
        os.close(saved)
        forwarder.join(timeout=5)
