"""The arithmetic fingerprint on this CPU and on emulated ones: does each compute every op
of the reference alike?  `make test-cpus`; CI runs it after `make test`.

    python scripts/test_cpus.py                          # native, Haswell-v4 (Intel), EPYC-Rome (AMD Zen 2)
    python scripts/test_cpus.py --models Haswell-v4      # only these emulated models, besides native

Debian's qemu-user (`apt-get install qemu-user`) runs the project's Python as another
x86-64 CPU: it answers CPUID as that model and computes IEEE operations exactly,
RCPPS and RSQRTPS included, where real CPUs return their vendor's approximation; so
a line that agrees here and natively rests on no such instruction. Every line of the
fingerprint runs on each model, the models side by side, one per core (about ten
minutes: QEMU multiplies-adds some 6 million floats a second). Each output line names
the model it came from (under QEMU the fingerprint's own `# cpu:` line shows the
host's /proc/cpuinfo).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movie_genre.modeling.fingerprint import REFERENCE, first_difference  # noqa: E402

MODELS = ("Haswell-v4", "EPYC-Rome")  # AVX2 CPUs without AVX-512: QEMU 7.2 has none


def fingerprint(model: str | None) -> tuple[str, list[str], str | None, float]:
    """(model, the fingerprint's lines, its error if it failed, seconds) natively (None) or under qemu -cpu model."""
    command = [sys.executable, "-m", "movie_genre.modeling.fingerprint"]
    if model is not None:
        command = ["qemu-x86_64", "-cpu", model, *command]
    start = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    # QEMU lists the host's CPUID features it cannot emulate, one line each: not ours to show
    errors = "\n".join(line for line in result.stderr.splitlines() if "TCG doesn't support" not in line)
    error = f"exit {result.returncode}: {errors.strip()}" if result.returncode else None
    return model or "native", result.stdout.splitlines(), error, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="QEMU CPU models, comma-separated")
    parser.add_argument("--reference", type=Path, default=ROOT / REFERENCE)
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    if models and shutil.which("qemu-x86_64") is None:
        print("test-cpus: qemu-x86_64 not found; install Debian's qemu-user (apt-get install qemu-user)",
              file=sys.stderr)
        return 2
    reference = args.reference.read_text(encoding="utf-8").splitlines()
    jobs = max(1, min(len(models), len(os.sched_getaffinity(0))))
    native = fingerprint(None)
    with ThreadPoolExecutor(jobs) as pool:
        runs = [native, *pool.map(fingerprint, models)]
    failed = False
    for name, lines, error, seconds in runs:
        problem = error or first_difference(lines, reference)
        if problem is None and name != "native":  # and each line as this CPU printed it
            problem = first_difference(lines, native[1])
        failed |= problem is not None
        verdict = f"differs: {problem}" if problem else f"every op alike ({len(lines) - 2} lines)"
        print(f"[{name}] {verdict}; {seconds:.0f} s", flush=True)
    print(f"test-cpus: {'FAILED' if failed else 'passed'} against {args.reference.relative_to(ROOT)} "
          f"(native, {', '.join(models) or 'no emulated model'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
