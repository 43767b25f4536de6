"""Stage `parse`: read the ` ::: ` files into typed Parquet tables.

Format (README, "Input format"): UTF-8, one record per line,
`id ::: title ::: genre ::: plot` (no genre in unlabelled files).  Whitespace
around fields, a byte-order mark and CRLF endings are tolerated; blank lines are
counted and ignored.  The plot is the last field, so it may itself contain ` ::: `.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stages.common import Param, PipelineError, atomic_path, load_params, run, write_text

SEPARATOR = " ::: "
GENRE_NAME = re.compile(r"[a-z][a-z-]*")
PARAMS = {"on_error": Param(str, choices=("fail", "skip"))}

RAW_DIR = Path("data/raw")
OUT_DIR = Path("data/parsed")
REJECTS_FILE = OUT_DIR / "rejects.jsonl"
LEDGER_FILE = Path("metrics/parse.json")

# Short reason codes (the ledger's keys) and the fix each one asks for.
FIXES = {
    "not_utf8": "save the file as UTF-8",
    "field_count": "check for a missing or extra ' ::: ' separator",
    "bad_id": "ids are positive integers",
    "duplicate_id": "give every record its own id",
    "empty_field": "fill in the field or remove the line",
    "bad_genre": "genres are lowercase words such as 'drama' or 'sci-fi'",
    "unknown_genre": "the training file must contain every genre the test file uses",
}


@dataclass
class Ledger:
    """Every line of a file is accepted, rejected for a reason, or blank."""

    lines_read: int = 0
    rows_accepted: int = 0
    blank_lines: int = 0
    rows_rejected: Counter = field(default_factory=Counter)


@dataclass
class Reject:
    file: str
    line: int
    reason: str
    message: str
    text: str


def parse_file(path: Path, labelled: bool, known_genres=None, on_error: str = "fail"):
    """Parse one ` ::: ` file into (columns, ledger, rejects).

    With on_error="fail" the first bad line raises PipelineError naming the file,
    the line and the fix; with "skip" it is recorded in `rejects` instead.
    """
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: file not found; run `dvc pull` or put the file there")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    names = ("id", "title", "genre", "plot") if labelled else ("id", "title", "plot")
    columns = {name: [] for name in names}
    ledger, rejects, first_line_of_id = Ledger(), [], {}

    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    for number, raw in enumerate(lines, start=1):
        ledger.lines_read += 1
        raw = raw.removesuffix(b"\r")
        reason, message = None, None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            text = raw.decode("utf-8", errors="replace")
            reason, message = "not_utf8", f"byte {error.start + 1} is not UTF-8"
        if reason is None and not text.strip():
            ledger.blank_lines += 1
            continue
        if reason is None:
            record = [part.strip() for part in text.split(SEPARATOR, len(names) - 1)]
            reason, message = _check(record, names, number, first_line_of_id, known_genres)
        if reason is None:
            for name, value in zip(names, record):
                columns[name].append(value)
            columns["id"][-1] = int(record[0])
            first_line_of_id[columns["id"][-1]] = number
            ledger.rows_accepted += 1
            continue
        if on_error == "fail":
            raise PipelineError(f"{path}:{number}: {message}; {FIXES[reason]}")
        ledger.rows_rejected[reason] += 1
        rejects.append(Reject(str(path), number, reason, message, text[:500]))

    if ledger.rows_accepted == 0:
        raise PipelineError(f"{path}: no records in {ledger.lines_read} lines; is this the right file?")
    return columns, ledger, rejects


def _check(record, names, number, first_line_of_id, known_genres):
    """Return (reason, message) for a bad record, or (None, None)."""
    if len(record) != len(names):
        expected = " ::: ".join(names)
        hint = " (an unlabelled test file where a labelled one is expected?)" if len(record) == len(names) - 1 else ""
        return "field_count", f"expected {len(names)} fields `{expected}`, found {len(record)}{hint}"
    values = dict(zip(names, record))
    for name in names:
        if not values[name]:
            return "empty_field", f"the {name} is empty"
    if not values["id"].isascii() or not values["id"].isdigit() or int(values["id"]) < 1:
        return "bad_id", f"id {values['id']!r} is not a positive integer"
    if int(values["id"]) in first_line_of_id:
        return "duplicate_id", f"id {values['id']} already used on line {first_line_of_id[int(values['id'])]}"
    genre = values.get("genre")
    if genre is not None and not GENRE_NAME.fullmatch(genre):
        return "bad_genre", f"genre {genre[:40]!r} is not a genre name"
    if genre is not None and known_genres is not None and genre not in known_genres:
        return "unknown_genre", f"genre {genre!r} never occurs in the training file"
    return None, None


def to_table(columns) -> pa.Table:
    types = {"id": pa.int64(), "title": pa.string(), "genre": pa.string(), "plot": pa.string()}
    return pa.table({name: pa.array(values, type=types[name]) for name, values in columns.items()})


def write_parquet(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def main() -> None:
    params = load_params("parse", PARAMS)
    on_error = params["on_error"]
    train, train_ledger, train_rejects = parse_file(RAW_DIR / "train_data.txt", True, None, on_error)
    test, test_ledger, test_rejects = parse_file(
        RAW_DIR / "test_data_solution.txt", True, set(train["genre"]), on_error
    )
    write_parquet(to_table(train), OUT_DIR / "train.parquet")
    write_parquet(to_table(test), OUT_DIR / "test.parquet")
    rejects = [json.dumps(vars(r), ensure_ascii=False) for r in train_rejects + test_rejects]
    write_text(REJECTS_FILE, "".join(line + "\n" for line in rejects))
    ledger = {"train_data.txt": vars(train_ledger), "test_data_solution.txt": vars(test_ledger)}
    write_text(LEDGER_FILE, json.dumps(ledger, indent=2, sort_keys=True) + "\n")
    for name, counts in ledger.items():
        print(f"{name}: {counts['rows_accepted']} rows accepted, "
              f"{sum(counts['rows_rejected'].values())} rejected, {counts['blank_lines']} blank lines")


if __name__ == "__main__":
    run(main)
