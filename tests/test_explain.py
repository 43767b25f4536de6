"""predict --explain: the wide path's score split into its n-grams, each path alone, the LSTM's
words left out one at a time; on small models built here, with and without a wide path."""

import re
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from conftest import ROOT, SMALL_MODEL  # noqa: E402

from movie_genre.explain import explain, head_and_rest, ngram_columns, wide_path  # noqa: E402
from movie_genre.modeling.build import build_classifier, build_text_model  # noqa: E402
from movie_genre.modeling.saving import load_model, predict_paths, predict_texts, save_model  # noqa: E402
from movie_genre.modeling.wide import fit_wide  # noqa: E402

README_PLOT = "A retired hitman takes one last job in Tokyo."
PLOTS = [
    README_PLOT,
    "A young widow falls in love again, and her family disapproves of the wedding.",
    "The ghost of a drowned sailor haunts the old lighthouse; a hitman and a priest try to stop it, "
    "one night in Tokyo, before the last ship sails and the family's wedding ends in blood.",
]
GENRES = ["action", "drama", "horror", "romance"]
CUES = {"action": "hitman job gun chase retired tokyo", "drama": "family widow father life trial",
        "horror": "ghost haunts blood night lighthouse", "romance": "love wedding falls kiss again"}
NOISE = "one last old young town ship sails sailor priest stop try before ends".split()
STOPWORDS = ["a", "the", "of", "in", "and", "her", "it"]
MAX_LEN = 12


def fit_texts(n=240, seed=0):
    """Texts whose genre a few cue words tell, among noise words every genre has."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(GENRES), size=n)
    texts = [" ".join(rng.choice(CUES[GENRES[label]].split(), size=3).tolist() + rng.choice(NOISE, size=4).tolist())
             for label in labels]
    return texts, labels


def small_model(path, wide: bool):
    keras.utils.set_random_seed(0)
    vocabulary = sorted({w for cue in CUES.values() for w in cue.split()} - {"tokyo"})  # tokyo: unknown to the LSTM
    member = build_classifier(len(vocabulary) + 2, len(GENRES), {**SMALL_MODEL, "bidirectional": True,
                                                                 "pooling": "max_mean"})
    fitted = None
    if wide:
        texts, labels = fit_texts()
        params = {"wide": "linear_svc", "wide_C": 0.3, "wide_max_ngrams": 1000, "wide_l2": 1e-3, "seed": 1}
        fitted = fit_wide(params, texts, labels, len(GENRES))
    save_model(build_text_model(member, vocabulary, STOPWORDS, GENRES, MAX_LEN, wide=fitted,
                                scales=(0.8, 2.0) if wide else (1.0, 0.0)), path)
    return path


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    return {"wide": small_model(folder / "wide.keras", True), "no_wide": small_model(folder / "no_wide.keras", False)}


@pytest.fixture(scope="module")
def model(model_files):
    return load_model(model_files["wide"])


def test_the_ngrams_terms_and_the_bias_sum_to_the_wide_score(model):
    explained = explain(model, PLOTS)
    member, scores = predict_paths(model, PLOTS)  # the model's own paths, apart from explain
    pooled = predict_texts(model, PLOTS)
    for e, p, s, probabilities in zip(explained, member, scores, pooled):
        assert e.genre == probabilities.argmax()
        np.testing.assert_allclose(e.probabilities, probabilities, atol=1e-6)
        np.testing.assert_allclose(e.member, p, atol=1e-6)
        assert e.ngrams, "no n-gram of the wide path's vocabulary found in the plot"
        terms = [term for _, term in e.ngrams]
        assert terms == sorted(terms, reverse=True)
        assert abs(sum(terms) + e.bias - s[e.genre]) < 1e-5
        head, others, rest = head_and_rest(e.ngrams, 10)
        assert len(head) == min(10, len(e.ngrams)) and others == len(e.ngrams) - len(head)
        assert abs(sum(term for _, term in head) + rest + e.bias - s[e.genre]) < 1e-5
        # the wide path alone: softmax(c s)
        expected = np.exp(e.scales[1] * s - (e.scales[1] * s).max())
        np.testing.assert_allclose(e.wide_alone, expected / expected.sum(), atol=1e-6)
    assert len(explained[2].ngrams) > 10  # the long plot has a remainder line


def test_each_ngram_is_named_by_its_own_column_of_the_wide_vocabulary(model):
    counts = next(layer for layer in wide_path(model).layers if isinstance(layer, keras.layers.TextVectorization))
    vocabulary = counts.get_vocabulary()
    texts = ["retired hitman takes one last job tokyo", "ghost ghost ship sails unheardof words ghost"]
    columns = ngram_columns(counts, texts)
    assert columns and all(vocabulary[column] == gram for gram, column in columns.items())
    every = {" ".join(w[i:i + n]) for w in map(str.split, texts) for n in (1, 2) for i in range(len(w) - n + 1)}
    assert set(columns) == every & set(vocabulary[1:])  # every n-gram the vocabulary holds, and none other


def raw_without(plot: str, word: str) -> str:
    """The raw plot with every occurrence of `word` (any case) taken out, before any cleaning."""
    return re.sub(rf"\b{word}\b", " ", plot, flags=re.IGNORECASE)


def test_leaving_a_word_out_changes_what_the_lstm_reads_by_the_reported_drop(model):
    for e, plot in zip(explain(model, PLOTS), PLOTS):
        top = e.words[0]
        p_full = predict_paths(model, [plot])[0][0, e.genre]
        p_without = predict_paths(model, [raw_without(plot, top.word)])[0][0, e.genre]
        assert abs(top.drop - (p_full - p_without)) < 1e-5
        assert abs(top.drop) > 1e-6, f"leaving out {top.word!r} changed nothing"
        drops = [word.drop for word in e.words]
        assert drops == sorted(drops, reverse=True)
        assert len({word.word for word in e.words}) == len(e.words)
    words = {word.word: word for word in explain(model, [README_PLOT])[0].words}
    assert set(words) == {"retired", "hitman", "takes", "one", "last", "job", "tokyo"}  # the cleaned text's
    assert not words["tokyo"].known and words["hitman"].known


def test_a_word_past_what_the_lstm_reads_is_not_left_out_yet_removing_an_earlier_one_shifts_it_in(model):
    plot = " ".join(["ghost"] * (MAX_LEN - 1) + ["wedding", "kiss"])  # kiss: word MAX_LEN + 1
    e = explain(model, [plot])[0]
    assert e.words_read == MAX_LEN and {word.word for word in e.words} == {"ghost", "wedding"}
    p_without = predict_paths(model, ["wedding kiss"])[0][0, e.genre]  # ghost out: kiss comes in
    assert abs(next(w for w in e.words if w.word == "ghost").drop - (e.member[e.genre] - p_without)) < 1e-5


def test_a_plot_with_no_word_left_has_only_the_bias_and_no_word_to_leave_out(model):
    e = explain(model, ["The and of it!", README_PLOT])[0]
    assert (e.cleaned, e.words, e.ngrams, e.words_read) == ("", [], [], 0)
    assert abs(e.bias - e.scores[e.genre]) < 1e-6


def test_a_model_without_a_wide_path_is_explained_by_its_lstm_alone(model_files):
    plain = load_model(model_files["no_wide"])
    assert wide_path(plain) is None
    e = explain(plain, [README_PLOT])[0]
    assert e.scores is None and e.ngrams is None and e.wide_alone is None and e.words
    np.testing.assert_allclose(e.probabilities, predict_texts(plain, [README_PLOT])[0], atol=1e-6)


def predict(*args):
    return subprocess.run([sys.executable, "-m", "stages.predict", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True)


def test_the_command_prints_each_section_and_the_same_answer(model_files):
    result = predict("--model", model_files["wide"], "--explain", README_PLOT)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    lines = result.stdout.splitlines()
    plain = predict("--model", model_files["wide"], README_PLOT).stdout.splitlines()
    assert lines[: len(plain) - 1] == plain[:-1] and lines[-1] == plain[-1]  # the answer, then the explanation
    top = next(m.group(1) for m in (re.fullmatch(r"  (\S+) +\d+\.\d%", line) for line in plain) if m)
    text = result.stdout
    assert f"  why {top}: the model is softmax(0.8 log p + 2 s)" in text
    assert re.search(rf"\n  wide path: s\({top}\) = [-+]\d\.\d{{4}}", text)
    assert re.search(r"\n    bias +[-+]\d\.\d{4} +[-+]\d\.\d{3}\n    s +[-+]", text)
    assert f"\n  LSTM: p({top}) = " in text and "from the 7 words it reads" in text
    assert "  (a word it does not know)" in text  # tokyo


def test_the_command_without_a_wide_path_says_so(model_files):
    result = predict("--model", model_files["no_wide"], "--explain", README_PLOT)
    assert (result.returncode, result.stderr) == (0, "")
    assert "no wide path: the model was trained with train.wide: none" in result.stdout
    assert "wide path: s(" not in result.stdout and "\n  LSTM: p(" in result.stdout


def test_explain_with_a_file_or_without_a_plot_is_one_line_naming_the_fix(model_files, tmp_path):
    source = tmp_path / "plots.txt"
    source.write_text("1 ::: T ::: A ghost.\n")
    for args in (["--explain", "--file", source], ["--explain"]):
        result = predict("--model", model_files["wide"], *args)
        assert result.returncode == 1 and result.stdout == "", args
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: --explain "), result.stderr
        assert "python -m stages.predict --explain" in result.stderr
    assert ", not --file" in predict("--explain", "--file", source).stderr


def test_the_readme_python_lines_run_and_print_the_top_three_genres(model_files):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", readme, re.S)
    code = code.replace('"models/movie_genre_classification_model.keras"', repr(str(model_files["wide"])))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    top = eval(result.stdout.strip().splitlines()[-1])  # [(probability, genre), ...], likeliest last
    assert len(top) == 3 and {genre for _, genre in top} <= set(GENRES)
    assert [p for p, _ in top] == sorted(p for p, _ in top) and 0 < top[-1][0] <= 1
