"""Plumbing every stage shares: params, errors, atomic outputs, threads."""

import difflib
import os
import sys
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

PARAMS_FILE = Path("params.yaml")
ROW_GROUP = 16384  # rows per Parquet row group, and per batch for stages that stream
_UMASK = os.umask(0)
os.umask(_UMASK)


class PipelineError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


@dataclass(frozen=True)
class Param:
    """What one key of params.yaml may hold: a type and, for numbers, a range."""

    kind: type
    low: float | None = None
    high: float | None = None
    exclusive: bool = False  # open interval (low, high) instead of [low, high]
    choices: tuple = ()

    def problem(self, value) -> str | None:
        # bool is an int in Python; "epochs: true" is still a mistake.
        if isinstance(value, bool) != (self.kind is bool) or not isinstance(value, self.kind):
            if not (self.kind is float and isinstance(value, int) and not isinstance(value, bool)):
                return f"must be {self.allowed()}"
        if self.choices and value not in self.choices:
            return f"must be {self.allowed()}"
        below = self.low is not None and (value <= self.low if self.exclusive else value < self.low)
        above = self.high is not None and (value >= self.high if self.exclusive else value > self.high)
        return f"must be {self.allowed()}" if below or above else None

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        text = {int: "an integer", float: "a number", bool: "true or false", str: "text"}[self.kind]
        if self.low is not None and self.high is not None:
            brackets = "()" if self.exclusive else "[]"
            return f"{text} in {brackets[0]}{self.low}, {self.high}{brackets[1]}"
        if self.low is not None:
            return f"{text} {'>' if self.exclusive else '>='} {self.low}"
        return text


def load_params(section: str, schema: dict[str, Param], path: Path = PARAMS_FILE) -> dict:
    """Return one section of params.yaml, checked against `schema` before any work."""
    with open(path, encoding="utf-8") as f:
        params = yaml.safe_load(f) or {}
    values = params.get(section)
    if not isinstance(values, dict):
        raise PipelineError(f"{path}: no '{section}' section; add it (see README, Params)")
    for key in values:
        if key not in schema:
            close = difflib.get_close_matches(key, schema, n=1)
            hint = f"did you mean '{section}.{close[0]}'?" if close else f"known keys: {', '.join(schema)}"
            raise PipelineError(f"{path}: unknown param '{section}.{key}'; {hint}")
    for key, rule in schema.items():
        if key not in values:
            raise PipelineError(f"{path}: missing param '{section}.{key}'; it {rule.problem(None)}")
        problem = rule.problem(values[key])
        if problem:
            raise PipelineError(f"{path}: '{section}.{key}' is {values[key]!r}; it {problem}")
    return values


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it into place only on success.

    A run killed half-way leaves the old file or none, never a truncated one that
    DVC would then cache as good.  The temporary name keeps the suffix because
    some writers (Keras) insist on it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=path.suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet(table, path) -> None:
    """Write an Arrow table atomically; see write_parquet_batches."""
    write_parquet_batches(table.to_batches(ROW_GROUP), table.schema, path)


def write_parquet_batches(batches, schema, path) -> None:
    """Write record batches atomically as they come, a row group each.

    Uncompressed: the next stage reads it 3-4x faster, and DVC's cache, not the
    file, is what holds it long-term.  Row groups of ROW_GROUP rows let the next
    stage read it a group at a time, so memory does not grow with the data.
    """
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema, compression="none") as writer:
        for batch in batches:
            writer.write_batch(batch)


def row_groups(array):
    """The array in slices of ROW_GROUP rows (views, no copies)."""
    return (array.slice(start, ROW_GROUP) for start in range(0, len(array), ROW_GROUP))


def map_in_threads(function, items, threads: int = len(os.sched_getaffinity(0))):
    """Yield function(item) for each item, in order, working on up to `threads` items at once.

    Arrow's and NumPy's kernels release the GIL, so threads use every core; the
    items are taken only as results are yielded, so memory holds a few at a time.
    """
    with ThreadPoolExecutor(threads) as pool:
        pending = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def run(main) -> None:
    """Run a stage's main(); a PipelineError becomes one line on stderr and exit 1."""
    try:
        main()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
