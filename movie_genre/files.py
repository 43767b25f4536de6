"""Outputs written atomically, Parquet in row groups, and work spread over threads."""

import json
import os
import shutil
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROW_GROUP = 16384  # rows per Parquet row group, and per batch for stages that stream


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it, else all)."""
    if hasattr(os, "sched_getaffinity"):  # Linux only
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(path):
    """atomic_path for a folder: yield an empty temporary folder beside `path`, which replaces
    `path` only on success. A run killed midway leaves the old folder, or none (between the
    two renames), never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".partial-"))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=".replaced-"))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_readable(path: Path, what: str, fix: str) -> None:
    """One line naming the file and the fix if `path` is missing, not a file, or unreadable."""
    from movie_genre.errors import PipelineError

    if not path.exists():
        raise PipelineError(f"{path}: no such {what}; {fix}")
    if not path.is_file():
        raise PipelineError(f"{path}: not a file; give the path of a {what}")
    try:
        path.open("rb").close()
    except OSError as error:
        raise PipelineError(f"{path}: cannot be read ({error.strerror}); check its permissions") from error


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, value) -> None:
    """Indented, keys in the order given, a newline at the end: stable text for git diffs."""
    write_text(path, json.dumps(value, indent=2) + "\n")


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


def map_in_threads(function, items, threads: int | None = None):
    """Yield function(item) for each item, in order, working on up to `threads` items at once.

    Arrow's and NumPy's kernels release the GIL, so threads use every core; the
    items are taken only as results are yielded, so memory holds a few at a time.
    """
    threads = threads or usable_cpus()
    with ThreadPoolExecutor(threads) as pool:
        pending = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
