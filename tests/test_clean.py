from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movie_genre.text import clean_texts, load_stopwords

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stopwords():
    return load_stopwords(ROOT / "data/external/nltk_data")


def clean(text, stopwords):
    return clean_texts([text], stopwords)[0].as_py()


def test_pinned_corpus_has_the_179_word_english_list(stopwords):
    assert len(stopwords) == 179
    assert {"the", "and", "don", "t", "s"} <= set(stopwords)


def test_missing_corpus_is_a_clear_error(tmp_path):
    from movie_genre.errors import PipelineError

    with pytest.raises(PipelineError, match="stopwords corpus is missing; run `dvc pull"):
        load_stopwords(tmp_path)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Cat's 10-year-old HAT!", "cat year old hat"),
        ("  Don't   stop\tme\nnow  ", "stop"),
        ("Café Noir (2009)", "caf noir"),
        ("1234 ... !!!", ""),
        ("The the THE", ""),
        ("theatre other", "theatre"),  # 'the' inside a word stays; 'other' is a stopword
    ],
)
def test_cleaning_rule(stopwords, text, expected):
    assert clean(text, stopwords) == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_cleaning_is_idempotent_and_leaves_only_words(text):
    words = load_stopwords(ROOT / "data/external/nltk_data")
    once = clean(text, words)
    assert clean(once, words) == once
    assert all(token.isascii() and token.isalpha() and token not in words for token in once.split(" ") if once)
    assert "  " not in once and once == once.strip()


@pytest.fixture(scope="module")
def cleaner(stopwords):
    from movie_genre.modeling.layers import PlotCleaner

    return PlotCleaner(stopwords)


def in_tensorflow(cleaner, texts):
    import tensorflow as tf

    return [t.decode("utf-8") for t in cleaner(tf.constant(texts)).numpy()]


def test_model_cleans_the_genuine_sample_as_the_clean_stage_does(stopwords, cleaner):
    from movie_genre.records import parse_file

    plots = []
    for name in ("train_data.txt", "test_data_solution.txt"):
        columns = parse_file(ROOT / "data/raw" / name, labelled=True)[0].to_pydict()
        plots += columns["plot"] + columns["title"]
    assert in_tensorflow(cleaner, plots) == clean_texts(plots, stopwords).to_pylist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=5))
def test_model_cleans_any_text_as_the_clean_stage_does(texts):
    from movie_genre.modeling.layers import PlotCleaner

    words = load_stopwords(ROOT / "data/external/nltk_data")
    assert in_tensorflow(PlotCleaner(words), texts) == clean_texts(texts, words).to_pylist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(), st.text()), min_size=1, max_size=5), st.booleans())
def test_model_joins_title_and_plot_as_the_clean_stage_does(rows, with_title):
    import tensorflow as tf

    from movie_genre.modeling.layers import TitleAndPlot
    from movie_genre.text import model_text

    titles, plots = (list(column) for column in zip(*rows))
    joined = TitleAndPlot(with_title)([tf.constant(titles), tf.constant(plots)])
    expected = [f"{title} {plot}" for title, plot in rows] if with_title else plots
    assert [t.decode("utf-8") for t in joined.numpy()] == expected
    assert model_text(pa.array(titles), pa.array(plots), with_title).to_pylist() == expected
