import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from stages.common import PipelineError
from stages.parse import parse_file

ROOT = Path(__file__).resolve().parents[1]
GOOD = (
    "1 ::: Oscar et la dame rose (2009) ::: drama ::: Oscar, 10, learns what nobody tells him.\n"
    "2 ::: Cupid (1997) ::: thriller ::: A brother and sister.\n"
)


def write(tmp_path, text, name="train_data.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_parses_labelled_file_into_typed_columns(tmp_path):
    columns, ledger, rejects = parse_file(write(tmp_path, GOOD), labelled=True)
    assert columns == {
        "id": [1, 2],
        "title": ["Oscar et la dame rose (2009)", "Cupid (1997)"],
        "genre": ["drama", "thriller"],
        "plot": ["Oscar, 10, learns what nobody tells him.", "A brother and sister."],
    }
    assert (ledger.lines_read, ledger.rows_accepted, ledger.blank_lines) == (2, 2, 0)
    assert rejects == []


def test_unlabelled_file_has_no_genre(tmp_path):
    columns, _, _ = parse_file(write(tmp_path, "7 ::: T (2000) ::: A plot.\n"), labelled=False)
    assert columns == {"id": [7], "title": ["T (2000)"], "plot": ["A plot."]}


def test_tolerates_bom_crlf_blank_lines_whitespace_and_missing_final_newline(tmp_path):
    text = "\ufeff1 :::  Title  ::: drama :::  A plot.  \r\n\r\n   \n2 ::: T2 ::: comedy ::: P2"
    columns, ledger, _ = parse_file(write(tmp_path, text), labelled=True)
    assert columns["id"] == [1, 2]
    assert columns["title"] == ["Title", "T2"]
    assert columns["plot"] == ["A plot.", "P2"]
    assert (ledger.lines_read, ledger.rows_accepted, ledger.blank_lines) == (4, 2, 2)


def test_separator_inside_the_plot_stays_in_the_plot(tmp_path):
    columns, _, _ = parse_file(write(tmp_path, "1 ::: T ::: drama ::: before ::: after\n"), labelled=True)
    assert columns["plot"] == ["before ::: after"]


def test_a_one_megabyte_line_is_read_whole(tmp_path):
    plot = "word " * 200_000
    columns, _, _ = parse_file(write(tmp_path, f"1 ::: T ::: drama ::: {plot}\n"), labelled=True)
    assert len(columns["plot"][0]) == len(plot.strip())


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 ::: T ::: drama ::: P\n2 ::: T ::: P\n", ":2: expected 4 fields"),
        ("x1 ::: T ::: drama ::: P\n", ":1: id 'x1' is not a positive integer"),
        ("0 ::: T ::: drama ::: P\n", ":1: id '0' is not a positive integer"),
        ("1 ::: T ::: drama ::: P\n1 ::: U ::: drama ::: Q\n", ":2: id 1 already used on line 1"),
        ("1 :::  ::: drama ::: P\n", ":1: the title is empty"),
        ("1 ::: T ::: drama ::: \n", ":1: the plot is empty"),
        ("1 ::: T ::: Drama Film ::: P\n", ":1: genre 'Drama Film' is not a genre name"),
    ],
)
def test_bad_lines_fail_naming_file_line_and_fix(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(PipelineError) as error:
        parse_file(path, labelled=True)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)
    assert "; " in str(error.value)  # the fix follows the problem


def test_bytes_that_are_not_utf8_name_the_line(tmp_path):
    path = write(tmp_path, b"1 ::: T ::: drama ::: P\n2 ::: T ::: drama ::: caf\xe9\n")
    with pytest.raises(PipelineError, match=r":2: byte 26 is not UTF-8; save the file as UTF-8"):
        parse_file(path, labelled=True)


def test_test_file_where_training_file_is_expected(tmp_path):
    path = write(tmp_path, "1 ::: T ::: A plot.\n")
    with pytest.raises(PipelineError, match="an unlabelled test file where a labelled one is expected"):
        parse_file(path, labelled=True)


def test_genre_unknown_to_training(tmp_path):
    path = write(tmp_path, "1 ::: T ::: western ::: P\n")
    with pytest.raises(PipelineError, match=r":1: genre 'western' never occurs in the training file"):
        parse_file(path, labelled=True, known_genres={"drama"})


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(PipelineError, match="no records in 0 lines"):
        parse_file(write(tmp_path, ""), labelled=True)
    with pytest.raises(PipelineError, match="file not found; run `dvc pull`"):
        parse_file(tmp_path / "nope.txt", labelled=True)


def test_skip_mode_accounts_for_every_line(tmp_path):
    text = GOOD + "3 ::: T ::: P\n\n2 ::: dup ::: drama ::: P\n" + "x ::: T ::: drama ::: P\n"
    columns, ledger, rejects = parse_file(write(tmp_path, text), labelled=True, on_error="skip")
    assert columns["id"] == [1, 2]
    assert dict(ledger.rows_rejected) == {"field_count": 1, "duplicate_id": 1, "bad_id": 1}
    assert ledger.lines_read == ledger.rows_accepted + sum(ledger.rows_rejected.values()) + ledger.blank_lines
    assert [(r.line, r.reason) for r in rejects] == [(3, "field_count"), (5, "duplicate_id"), (6, "bad_id")]


def run_stage(workdir, on_error):
    (workdir / "params.yaml").write_text(f"parse:\n  on_error: {on_error}\n")
    return subprocess.run(
        [sys.executable, "-m", "stages.parse"], cwd=workdir, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_stage_fails_in_one_line_without_traceback(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    write(raw, GOOD)
    write(raw, "1 ::: T ::: drama ::: P\n2 ::: T\n", "test_data_solution.txt")
    result = run_stage(tmp_path, "fail")
    assert result.returncode == 1
    assert result.stderr == (
        "error: data/raw/test_data_solution.txt:2: expected 4 fields `id ::: title ::: genre ::: plot`, "
        "found 2; check for a missing or extra ' ::: ' separator\n"
    )
    assert not (tmp_path / "data" / "parsed").exists()


def test_stage_skip_mode_writes_rejects_and_ledger(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    write(raw, GOOD)
    write(raw, "1 ::: T ::: drama ::: P\n2 ::: T ::: horror ::: P\n", "test_data_solution.txt")
    result = run_stage(tmp_path, "skip")
    assert result.returncode == 0, result.stderr
    assert pq.read_table(tmp_path / "data/parsed/test.parquet")["id"].to_pylist() == [1]
    rejects = [json.loads(line) for line in (tmp_path / "data/parsed/rejects.jsonl").read_text().splitlines()]
    assert [(r["file"], r["line"], r["reason"]) for r in rejects] == [
        ("data/raw/test_data_solution.txt", 2, "unknown_genre")
    ]
    ledger = json.loads((tmp_path / "metrics/parse.json").read_text())
    assert ledger["test_data_solution.txt"] == {
        "lines_read": 2, "rows_accepted": 1, "blank_lines": 0, "rows_rejected": {"unknown_genre": 1},
    }


def test_unknown_param_is_named_with_a_suggestion(tmp_path):
    (tmp_path / "params.yaml").write_text("parse:\n  on_eror: fail\n")
    result = subprocess.run(
        [sys.executable, "-m", "stages.parse"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "unknown param 'parse.on_eror'; did you mean 'parse.on_error'?" in result.stderr
