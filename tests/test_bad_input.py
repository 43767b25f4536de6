"""Bad input through the real `parse` stage entry point, under both policies, and
properties of the parser and the params checks."""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movie_genre.errors import PipelineError
from movie_genre.records import parse_clean_file, parse_file, parse_lines

ROOT = Path(__file__).resolve().parents[1]
TRAIN = "1 ::: Alpha (2001) ::: drama ::: A quiet plot.\n2 ::: Beta ::: thriller ::: A tense plot.\n"
TEST = "1 ::: Gamma ::: drama ::: Another plot.\n"
FIX = {
    "field_count": "check for a missing or extra ' ::: ' separator",
    "empty_field": "fill in the field or remove the line",
    "bad_id": "ids are positive integers",
    "duplicate_id": "give every record its own id",
    "unknown_genre": "the training file must contain every genre the test file uses",
    "not_utf8": "save the file as UTF-8",
}

# case: (file, bytes written to it, line and problem under `fail`, reason under `skip`)
BAD = {
    "wrong field count": ("train", TRAIN + "3 ::: T\n", "3: expected 4 fields `id ::: title ::: genre ::: plot`, found 2", "field_count"),
    "empty title": ("train", TRAIN + "3 :::  ::: drama ::: P\n", "3: the title is empty", "empty_field"),
    "empty genre": ("train", TRAIN + "3 ::: T :::  ::: P\n", "3: the genre is empty", "empty_field"),
    "empty plot": ("train", TRAIN + "3 ::: T ::: drama ::: \n", "3: the plot is empty", "empty_field"),
    "non-integer id": ("train", TRAIN + "3a ::: T ::: drama ::: P\n", "3: id '3a' is not a positive integer", "bad_id"),
    "duplicate id": ("train", TRAIN + "2 ::: T ::: drama ::: P\n", "3: id 2 already used on line 2", "duplicate_id"),
    "genre unknown to training": ("test", TEST + "2 ::: T ::: western ::: P\n", "2: genre 'western' never occurs in the training file", "unknown_genre"),
    "bytes not UTF-8": ("train", TRAIN.encode() + b"3 ::: T ::: drama ::: caf\xe9\n", "3: byte 26 is not UTF-8", "not_utf8"),
}
FATAL = {
    "empty file": ("train", "", "data/raw/train_data.txt: no records in 0 lines; is this the right file?"),
    "missing file": ("train", None, "data/raw/train_data.txt: file not found; run `dvc pull` or put the file there"),
    "test file where a training file is expected": (
        "train", "1 ::: T ::: A plot.\n",
        "data/raw/train_data.txt:1: expected 4 fields `id ::: title ::: genre ::: plot`, found 3 "
        "(an unlabelled test file where a labelled one is expected?)",
    ),
}
TOLERATED = {
    "blank lines": (TRAIN + "\n  \n", {"blank_lines": 2}),
    "CRLF line endings": (TRAIN.replace("\n", "\r\n"), {}),
    "byte-order mark": ("\ufeff" + TRAIN, {}),
    "separator inside the plot": (TRAIN + "3 ::: T ::: drama ::: one ::: two\n", {}),
    "whitespace around fields": (TRAIN + "  3 :::   T  ::: drama :::  P  \n", {}),
    "a 1 MB line": (TRAIN + "3 ::: T ::: drama ::: " + "word " * 210_000 + "\n", {}),
}
NAMES = {"train": "train_data.txt", "test": "test_data_solution.txt"}


def stage(tmp_path, on_error, files):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is not None:
            (raw / NAMES[name]).write_bytes(content.encode() if isinstance(content, str) else content)
    (tmp_path / "params.yaml").write_text(f"parse:\n  on_error: {on_error}\n")
    return subprocess.run(
        [sys.executable, "-m", "stages.parse"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def files_with(which, content):
    return {"train": TRAIN, "test": TEST, which: content}


@pytest.mark.parametrize("case", BAD)
def test_bad_line_fails_naming_file_line_and_fix(tmp_path, case):
    which, content, problem, reason = BAD[case]
    result = stage(tmp_path, "fail", files_with(which, content))
    assert result.returncode == 1
    assert result.stderr == f"error: data/raw/{NAMES[which]}:{problem}; {FIX[reason]}\n"
    assert not (tmp_path / "data/parsed").exists()


@pytest.mark.parametrize("case", BAD)
def test_bad_line_is_skipped_into_the_rejects_file_and_ledger(tmp_path, case):
    which, content, problem, reason = BAD[case]
    result = stage(tmp_path, "skip", files_with(which, content))
    assert result.returncode == 0, result.stderr
    line = int(problem.split(":")[0])
    rejects = [json.loads(r) for r in (tmp_path / "data/parsed/rejects.jsonl").read_text().splitlines()]
    assert [(r["file"], r["line"], r["reason"]) for r in rejects] == [(f"data/raw/{NAMES[which]}", line, reason)]
    ledger = json.loads((tmp_path / "metrics/parse.json").read_text())[NAMES[which]]
    assert ledger["rows_rejected"] == {reason: 1}
    assert ledger["lines_read"] == ledger["rows_accepted"] + 1 + ledger["blank_lines"]
    table = pq.read_table(tmp_path / f"data/parsed/{which}.parquet")
    assert table.num_rows == ledger["rows_accepted"]


@pytest.mark.parametrize("on_error", ["fail", "skip"])
@pytest.mark.parametrize("case", FATAL)
def test_unusable_file_stops_the_stage_under_either_policy(tmp_path, case, on_error):
    which, content, message = FATAL[case]
    result = stage(tmp_path, on_error, files_with(which, content))
    assert result.returncode == 1
    if on_error == "skip" and case.startswith("test file"):
        message = "data/raw/train_data.txt: no records in 1 lines; is this the right file?"
    assert result.stderr.startswith(f"error: {message}")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", TOLERATED)
def test_tolerated_variations_are_accepted_and_counted(tmp_path, case):
    content, ledger_part = TOLERATED[case]
    result = stage(tmp_path, "fail", files_with("train", content))
    assert result.returncode == 0, result.stderr
    ledger = json.loads((tmp_path / "metrics/parse.json").read_text())["train_data.txt"]
    table = pq.read_table(tmp_path / "data/parsed/train.parquet")
    assert ledger["rows_accepted"] == table.num_rows == TRAIN.count("\n") + ("3 :::" in content)
    assert ledger["lines_read"] == ledger["rows_accepted"] + ledger["blank_lines"]
    assert ledger.items() >= ledger_part.items()
    assert table["title"][0].as_py() == "Alpha (2001)" and table["genre"][1].as_py() == "thriller"
    if "one ::: two" in content:
        assert table["plot"][2].as_py() == "one ::: two"
    if "  P  " in content:
        assert table["title"][2].as_py() == "T" and table["plot"][2].as_py() == "P"


# Property tests of the parser.
field = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), min_size=1).map(str.strip).filter(bool)
title = field.filter(lambda t: ":::" not in t)
genre = st.from_regex(r"[a-z][a-z-]{0,11}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(title, genre, field), min_size=1, max_size=8))
def test_any_records_round_trip_through_write_then_parse(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("rt") / "train_data.txt"
    lines = [f"{i} ::: {t} ::: {g} ::: {p}\n" for i, (t, g, p) in enumerate(records, start=1)]
    path.write_text("".join(lines), encoding="utf-8")
    table, ledger, _ = parse_file(path, labelled=True)
    slow, _, _ = parse_lines(path, path.read_bytes(), ("id", "title", "genre", "plot"), None, "fail")
    assert table.equals(slow)  # whichever reader answered, the line reader agrees
    assert table.to_pydict() == {
        "id": list(range(1, len(records) + 1)),
        "title": [t for t, _, _ in records],
        "genre": [g for _, g, _ in records],
        "plot": [p for _, _, p in records],
    }
    assert ledger.rows_accepted == ledger.lines_read == len(records)


piece = st.sampled_from(["1", "2", "007", "-3", "x", " ", "\t", "\x1c", "\u2028", "\u00e9", "drama", "Sci-Fi", ":::", " ::: ", "\r", "\n", ""])


@settings(max_examples=400, deadline=None)
@given(st.lists(piece, max_size=40).map("".join), st.booleans())
def test_whole_file_reader_agrees_with_the_line_reader_whenever_it_answers(text, labelled):
    data = text.encode()
    names = ("id", "title", "genre", "plot") if labelled else ("id", "title", "plot")
    fast = parse_clean_file(data, names, None)
    if fast is not None:
        slow, ledger, rejects = parse_lines(Path("f.txt"), data, names, None, "skip")
        assert fast.equals(slow)
        assert rejects == [] and ledger.blank_lines == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["fail", "skip"]), st.booleans())
def test_no_input_raises_anything_but_a_clear_error(tmp_path_factory, data, on_error, labelled):
    path = tmp_path_factory.mktemp("any") / "data.txt"
    path.write_bytes(data)
    try:
        _, ledger, rejects = parse_file(path, labelled=labelled, on_error=on_error)
    except PipelineError as error:
        assert str(error).startswith(str(path))
    else:
        assert ledger.lines_read == ledger.rows_accepted + sum(ledger.rows_rejected.values()) + ledger.blank_lines
        assert len(rejects) == sum(ledger.rows_rejected.values())


def stage_with_params(tmp_path, stage: str, change):
    """`python -m stages.STAGE` in tmp_path, with params.yaml's params as `change(params)` leaves them."""
    import yaml

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    change(params)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run(
        [sys.executable, "-m", f"stages.{stage}"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


# Params are checked before any work.
@pytest.mark.parametrize(
    "section, text, message",
    [
        ("train", "epoch: 3", "unknown param 'train.epoch'; did you mean 'train.epochs'?"),
        ("train", "epochs: 0", "'train.epochs' is 0; it must be an integer >= 1"),
        ("train", "epochs: three", "'train.epochs' is 'three'; it must be an integer >= 1"),
        ("train", "bidirectional: 1", "'train.bidirectional' is 1; it must be true or false"),
        ("train", "pooling: avg", "'train.pooling' is 'avg'; it must be one of last, max, mean, max_mean, attention"),
        ("tokenize", "val_split: 1.0", "'tokenize.val_split' is 1.0; it must be a number in (0, 1)"),
        ("tokenize", "vocab_size: 2", "'tokenize.vocab_size' is 2; it must be an integer >= 3"),
        ("tokenize", "max_len: 0", "'tokenize.max_len' is 0; it must be an integer >= 1"),
        ("tokenize", "folds: 0", "'tokenize.folds' is 0; it must be an integer >= 1"),
        ("train", "wide: svm", "'train.wide' is 'svm'; it must be one of linear_svc, softmax, none"),
        ("word_vectors", "dim: 0", "'word_vectors.dim' is 0; it must be an integer >= 1"),
        ("train", "encoder_lr_scale: 1.5",
         "'train.encoder_lr_scale' is 1.5; it must be a number in [0, 1]"),
        ("train", "embedding: word2vec",
         "'train.embedding' is 'word2vec'; it must be one of random, glove, corpus"),
    ],
)
def test_bad_params_are_named_before_any_work(tmp_path, section, text, message):
    import yaml

    def change(params):
        key, value = text.split(": ")
        if key not in params[section]:
            del params[section][key + "s"]
        params[section][key] = yaml.safe_load(value)

    result = stage_with_params(tmp_path, section, change)
    assert result.returncode == 1
    assert result.stderr == f"error: params.yaml: {message}\n"


def test_a_retired_param_says_what_replaced_it(tmp_path):
    result = stage_with_params(tmp_path, "train", lambda params: params["train"].update(wide_weight=0.95))
    assert result.returncode == 1
    assert result.stderr == (
        "error: params.yaml: 'train.wide_weight' is retired: the blend of the two paths is fitted on the "
        "out-of-fold rows now; write 'train.wide: linear_svc' (or none: no wide path) instead\n"
    )


def test_a_renamed_value_says_its_new_name(tmp_path):
    result = stage_with_params(tmp_path, "train", lambda params: params["train"].update(encoder="word_vectors"))
    assert result.returncode == 1
    assert result.stderr == ("error: params.yaml: 'train.encoder: word_vectors' is renamed; "
                             "write 'train.encoder: fresh' (the same setting)\n")


def test_glove_needs_its_own_vector_size(tmp_path):
    result = stage_with_params(tmp_path, "train",
                               lambda params: params["train"].update(embedding="glove", embedding_dim=64))
    assert result.returncode == 1
    assert "'train.embedding_dim' is 64; with train.embedding=glove it must be 50" in result.stderr


def test_train_before_tokenize_says_which_file_is_missing_and_how_to_make_it(tmp_path):
    result = stage_with_params(tmp_path, "train", lambda params: params["train"].update(embedding="random"))
    assert result.returncode == 1
    assert result.stderr == ("error: data/tokenized/train.parquet: no such tokenized training file; "
                             "run `dvc repro tokenize` first\n")


def test_corpus_vectors_must_have_the_embeddings_width(tmp_path):
    import pyarrow as pa

    from movie_genre.files import write_parquet

    vectors = pa.FixedSizeListArray.from_arrays(pa.array([0.5] * 16, pa.float32()), 8)
    write_parquet(pa.table({"word": ["hero", "ship"], "vector": vectors}), tmp_path / "data/corpus/word_vectors.parquet")
    result = stage_with_params(tmp_path, "train",
                               lambda params: params["train"].update(embedding="corpus", embedding_dim=50))
    assert result.returncode == 1
    assert result.stderr == (
        "error: params.yaml: 'train.embedding_dim' is 50; with train.embedding=corpus it must be 8, "
        "the width of data/corpus/word_vectors.parquet (word_vectors.dim)\n"
    )
