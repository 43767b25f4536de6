"""The outside corpus: read strictly, texts also in the pipeline's own files dropped and counted."""

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from movie_genre.corpus import COLUMNS, cleaned, overlap_keys, read_descriptions, without_overlaps
from movie_genre.errors import PipelineError

PLOT = "A young farmer leaves his village to find the dragon that burned his family's barn, and meets a witch."


def corpus_of(texts):
    return pa.table({name: [f"{name} {i}" for i in range(len(texts))] for name in COLUMNS[:-1]} | {"text": texts})


@given(st.text(max_size=200))
def test_the_key_ignores_case_and_everything_but_letters(text):
    shouted = "".join(c.upper() if c.isascii() else c for c in text) + " 1999!"
    key, = overlap_keys([text]).to_pylist()
    assert overlap_keys([shouted]).to_pylist() == [key]
    assert len(key) <= 60 and set(key) <= set("abcdefghijklmnopqrstuvwxyz")


def test_texts_that_match_a_plot_by_the_rule_are_dropped_and_counted_per_file():
    same_as_train = "a YOUNG farmer, leaves his village (1999) to find the dragon that burned his fam-ily's ranch!"
    same_as_test = "Two sisters run a bakery in Lisbon until a stranger arrives with an old recipe and a secret."
    letters = "".join(c for c in PLOT.lower() if c.isalpha())
    at = [i for i, c in enumerate(PLOT) if c.isalpha()][59]
    differs_at_letter_60 = PLOT[:at] + "Q" + PLOT[at + 1 :]
    assert letters[:60] != "".join(c for c in differs_at_letter_60.lower() if c.isalpha())[:60]
    unrelated = "A detective in Oslo hunts a killer who leaves riddles at every crime scene in the city."
    corpus = corpus_of([same_as_train, same_as_test, differs_at_letter_60, unrelated, same_as_test.upper()])
    kept, dropped = without_overlaps(corpus, {"train": [PLOT], "test": [same_as_test + " More words."]})
    assert kept["text"].to_pylist() == [differs_at_letter_60, unrelated]
    assert dropped == {"train": 1, "test": 2}
    assert len(kept) + sum(dropped.values()) == len(corpus)


def test_a_text_in_both_files_is_counted_once():
    kept, dropped = without_overlaps(corpus_of([PLOT]), {"train": [PLOT], "test": [PLOT]})
    assert len(kept) == 0 and dropped == {"train": 1, "test": 0}


def test_cleaning_drops_texts_left_empty_and_says_how_many():
    table, empty = cleaned(corpus_of(["The Hero returns, 1999!", "the and of 42"]), ["the", "and", "of"])
    assert table["text"].to_pylist() == ["hero returns"] and empty == 1
    assert table.column_names == ["source", "genres", "text"]


def write(tmp_path, lines):
    path = tmp_path / "descriptions.tsv"
    path.write_text("".join(line + "\n" for line in ["\t".join(COLUMNS), *lines]), encoding="utf-8")
    return path


def test_descriptions_are_read_as_text_with_quotes_kept(tmp_path):
    table = read_descriptions(write(tmp_path, ['netflix\t"Heat"\t1995\tAction\tA thief\'s "last" job.']))
    assert table.to_pylist() == [
        {"source": "netflix", "title": '"Heat"', "year": "1995", "genres": "Action", "text": 'A thief\'s "last" job.'}
    ]


def test_a_line_with_a_stray_tab_names_the_file_and_line(tmp_path):
    path = write(tmp_path, ["hulu\tA\t2001\tDrama\tfine", "hulu\tB\t2002\tDrama\ttext with\ta tab"])
    with pytest.raises(PipelineError, match=rf"^{path}:3: 6 tab-separated fields, expected 5"):
        read_descriptions(path)


def test_a_missing_corpus_says_how_to_get_it(tmp_path):
    with pytest.raises(PipelineError, match="dvc pull data/external/movie_descriptions.dvc"):
        read_descriptions(tmp_path / "descriptions.tsv")


def test_a_wrong_header_is_named(tmp_path):
    path = tmp_path / "descriptions.tsv"
    path.write_text("source\ttitle\tyear\tgenre\tplot\nhulu\tA\t2001\tDrama\tfine\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=rf"^{path}:1: header is source/title/year/genre/plot"):
        read_descriptions(path)
