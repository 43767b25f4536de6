"""The ` ::: ` record files, read strictly into typed Arrow tables, every line accounted for.

Format (README, "Input format"): UTF-8, one record per line,
`id ::: title ::: genre ::: plot` (no genre in unlabelled files).  Whitespace
around fields, a byte-order mark and CRLF endings are tolerated; blank lines are
counted and ignored.  The plot is the last field, so it may itself contain ` ::: `.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_genre import files
from movie_genre.errors import PipelineError
from movie_genre.files import map_in_threads
from movie_genre.params import Param

SEPARATOR = " ::: "
GENRE_NAME = re.compile(r"[a-z][a-z-]*")
# Every character Python's str.strip() removes, as an RE2 class (tests check the list).
STRIPPED = (
    "[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
)
PARAMS = {"on_error": Param(str, choices=("fail", "skip"))}

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
    """Parse one ` ::: ` file into (table, ledger, rejects).

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
    table = parse_clean_file(data, names, known_genres)
    if table is not None:
        return table, Ledger(lines_read=len(table), rows_accepted=len(table)), []
    return parse_lines(path, data, names, known_genres, on_error)


def parse_clean_file(data: bytes, names, known_genres) -> pa.Table | None:
    """The whole file with Arrow kernels, a row group of lines at a time, when it is plainly well formed.

    Any doubt (bad UTF-8, a blank line, a field count, an empty field, an id or
    genre out of order, a field that still starts or ends with whitespace that
    str.strip() would remove, such as CR) returns None, and parse_lines, the
    line-by-line reader, decides and explains.  Tests check both agree.
    """
    if not data:
        return None
    # The lines straight from the file's bytes, each with its newline (trimmed
    # below): offsets after every newline, no copy of the text.
    after_newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + 1
    offsets = np.concatenate([[0], after_newlines, [] if data.endswith(b"\n") else [len(data)]])
    lines = pa.Array.from_buffers(
        pa.large_string(), len(offsets) - 1, [None, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(data)]
    )
    try:  # checks the UTF-8 in place, where bytes.decode would make a str as big as the file
        lines.validate(full=True)
    except pa.ArrowInvalid:
        return None
    groups = []
    # A row group of lines at a time, in threads: memory holds the file, the
    # fields and one group's intermediates per thread, not four copies of the file.
    for group in map_in_threads(lambda lines: _clean_fields(lines, names), files.row_groups(lines)):
        if group is None:
            return None
        groups.append(group)
    table = pa.Table.from_batches(groups)
    if pc.count_distinct(table["id"]).as_py() != len(table):
        return None
    if known_genres is not None and not pc.all(pc.is_in(table["genre"], pa.array(sorted(known_genres)))).as_py():
        return None
    return table


def _clean_fields(lines, names) -> pa.RecordBatch | None:
    """parse_clean_file's checks that need one line only, on some lines."""
    parts = pc.split_pattern(lines, SEPARATOR, max_splits=len(names) - 1)
    if pc.min(pc.list_value_length(parts)).as_py() != len(names):
        return None
    fields = {
        name: pc.cast(pc.utf8_trim(pc.list_element(parts, i), " \t\n"), pa.string()) for i, name in enumerate(names)
    }
    for column in fields.values():
        if pc.any(pc.equal(column, "")).as_py():
            return None
        if pc.any(pc.match_substring_regex(column, f"^{STRIPPED}|{STRIPPED}$")).as_py():
            return None
    if not pc.all(pc.match_substring_regex(fields["id"], r"^[0-9]{1,18}$")).as_py():
        return None
    fields["id"] = pc.cast(fields["id"], pa.int64())
    if pc.min(fields["id"]).as_py() < 1:
        return None
    if "genre" in fields and not pc.all(pc.match_substring_regex(fields["genre"], f"^{GENRE_NAME.pattern}$")).as_py():
        return None
    return pa.record_batch(fields)


def parse_lines(path: Path, data: bytes, names, known_genres, on_error: str):
    """Line by line: every bad line is found, explained, and failed or skipped."""
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
    return to_table(columns), ledger, rejects


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
    if not values["id"].isascii() or not values["id"].isdigit() or not 1 <= int(values["id"]) < 2**63:
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


def is_labelled(path: Path) -> bool:
    """Whether the file's first record has a genre field: `id ::: title ::: genre ::: plot`."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    fields = [field.strip() for field in first.split(SEPARATOR, 3)]
    return len(fields) == 4 and GENRE_NAME.fullmatch(fields[2]) is not None
