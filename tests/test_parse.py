from movie_genre.records import parse_file

GOOD = (
    "1 ::: Oscar et la dame rose (2009) ::: drama ::: Oscar, 10, learns what nobody tells him.\n"
    "2 ::: Cupid (1997) ::: thriller ::: A brother and sister.\n"
)


def write(tmp_path, text, name="train_data.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_parses_labelled_file_into_typed_columns(tmp_path):
    table, ledger, rejects = parse_file(write(tmp_path, GOOD), labelled=True)
    assert table.to_pydict() == {
        "id": [1, 2],
        "title": ["Oscar et la dame rose (2009)", "Cupid (1997)"],
        "genre": ["drama", "thriller"],
        "plot": ["Oscar, 10, learns what nobody tells him.", "A brother and sister."],
    }
    assert (ledger.lines_read, ledger.rows_accepted, ledger.blank_lines) == (2, 2, 0)
    assert rejects == []


def test_unlabelled_file_has_no_genre(tmp_path):
    table, _, _ = parse_file(write(tmp_path, "7 ::: T (2000) ::: A plot.\n"), labelled=False)
    assert table.to_pydict() == {"id": [7], "title": ["T (2000)"], "plot": ["A plot."]}


def test_tolerates_bom_crlf_blank_lines_whitespace_and_missing_final_newline(tmp_path):
    text = "\ufeff1 :::  Title  ::: drama :::  A plot.  \r\n\r\n   \n2 ::: T2 ::: comedy ::: P2"
    table, ledger, _ = parse_file(write(tmp_path, text), labelled=True)
    assert table.to_pydict()["id"] == [1, 2]
    assert table.to_pydict()["title"] == ["Title", "T2"]
    assert table.to_pydict()["plot"] == ["A plot.", "P2"]
    assert (ledger.lines_read, ledger.rows_accepted, ledger.blank_lines) == (4, 2, 2)


def test_skip_mode_accounts_for_every_line(tmp_path):
    text = GOOD + "3 ::: T ::: P\n\n2 ::: dup ::: drama ::: P\n" + "x ::: T ::: drama ::: P\n"
    table, ledger, rejects = parse_file(write(tmp_path, text), labelled=True, on_error="skip")
    assert table.to_pydict()["id"] == [1, 2]
    assert dict(ledger.rows_rejected) == {"field_count": 1, "duplicate_id": 1, "bad_id": 1}
    assert ledger.lines_read == ledger.rows_accepted + sum(ledger.rows_rejected.values()) + ledger.blank_lines
    assert [(r.line, r.reason) for r in rejects] == [(3, "field_count"), (5, "duplicate_id"), (6, "bad_id")]


def test_stripped_class_is_exactly_what_str_strip_removes():
    import pyarrow as pa
    import pyarrow.compute as pc

    from movie_genre.records import STRIPPED

    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    matched = pc.match_substring_regex(pa.array(characters), f"^{STRIPPED}$").to_numpy(zero_copy_only=False)
    assert {c for c, m in zip(characters, matched) if m} == {c for c in characters if c.isspace()}


def test_row_groups_parse_as_the_whole_file_and_duplicates_across_them_are_found(tmp_path, monkeypatch):
    import pytest

    from movie_genre import files as common
    from movie_genre.errors import PipelineError

    lines = [f"{i} ::: Title {i} ::: drama ::: Plot number {i}.\n" for i in range(1, 8)]
    whole, _, _ = parse_file(write(tmp_path, "".join(lines)), labelled=True)
    monkeypatch.setattr(common, "ROW_GROUP", 3)  # 7 lines: three groups, in threads
    grouped, _, _ = parse_file(write(tmp_path, "".join(lines)), labelled=True)
    assert grouped.to_pydict() == whole.to_pydict()
    assert grouped["id"].num_chunks == 3
    with pytest.raises(PipelineError, match=r"train_data.txt:6: id 2 already used on line 2"):
        parse_file(write(tmp_path, "".join(lines[:5] + [lines[1]] + lines[6:])), labelled=True)
