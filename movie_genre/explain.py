"""Why the saved model gave a plot its top genre, for `python -m stages.predict --explain`.

The model pools its two paths as softmax(a log p + c s) (modeling/layers.py Blend):
p the LSTM members' probabilities, s the wide path's scores. For the top genre g:
- the wide path's score splits exactly: s_g = sum over the text's n-grams of
  tfidf(n-gram) * W[n-gram, g], plus the bias b_g (modeling/wide.py);
- each path's own probabilities beside the pooled model's;
- the members have no such split: each distinct word they read is left out (all
  its occurrences) and the drop in p_g measured, every variant in one batch.
Everything is read from the loaded model (its own cleaning, counting, weights), so
what is explained is what the model computed.
"""

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from movie_genre.modeling.layers import BLEND, PlotCleaner, TitleAndPlot, blend
from movie_genre.modeling.saving import predict_paths
from movie_genre.modeling.wide import LINEAR, NGRAMS, tf_idf

UNKNOWN = 1  # TextVectorization's id for a word outside its vocabulary (0 is padding)


@dataclass
class Word:
    word: str
    drop: float  # p_g with every word read less p_g without this one
    known: bool  # in the members' vocabulary (an unknown word is still one step of their input)


@dataclass
class Explanation:
    """One plot's top genre `genre` (an index into the model's genres), explained."""

    genre: int
    probabilities: np.ndarray  # the model's, pooled
    member: np.ndarray  # p
    scales: tuple[float, float]  # (a, c)
    cleaned: str  # the text as the model reads it
    words_read: int  # how many of its words the members read (the first max_len)
    words: list[Word]  # each distinct word they read, largest drop first
    scores: np.ndarray | None = None  # s; None without a wide path
    wide_alone: np.ndarray | None = None  # softmax(c s): the blend with the members' scale at 0
    # The text's n-grams that the wide vocabulary holds with their terms tfidf * W[n-gram, g], largest
    # first, and b_g: together they sum to s_g
    ngrams: list[tuple[str, float]] | None = None
    bias: float | None = None


def wide_path(model: keras.Model) -> keras.Model | None:
    """The saved model's wide path (the sub-model holding its LINEAR layer), or None (train.wide: none)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model) and any(inner.name == LINEAR for inner in layer.layers):
            return layer
    return None


def _layer(model: keras.Model, kind):
    return next(layer for layer in model.layers if isinstance(layer, kind))


def cleaned_texts(model: keras.Model, plots, titles) -> list[str]:
    """The texts as the model's own layers make them before its paths read them."""
    joined = _layer(model, TitleAndPlot)([tf.constant(titles, tf.string), tf.constant(plots, tf.string)])
    return [text.decode("utf-8") for text in _layer(model, PlotCleaner)(joined).numpy()]


def without(words: list[str], word: str, max_len: int) -> str:
    """The text the members read with every occurrence of `word` left out (its first max_len words)."""
    return " ".join([w for w in words if w != word][:max_len])


def ngram_columns(counts: keras.layers.TextVectorization, texts) -> dict[str, int]:
    """Each 1- to NGRAMS-gram of the texts that the wide path's vocabulary holds, and its column there.

    Found by the path's own counting layer: an n-gram read alone counts its own
    column and those of the shorter n-grams inside it, which are known first.
    """
    grams = sorted({" ".join(words[i : i + n]) for words in map(str.split, texts)
                    for n in range(1, NGRAMS + 1) for i in range(len(words) - n + 1)}, key=lambda g: g.count(" "))
    if not grams:
        return {}
    counted = [set() for _ in grams]
    for row, column in counts(tf.constant(grams)).indices.numpy():
        if column:  # column 0: outside the vocabulary
            counted[row].add(int(column))
    columns = {}
    for gram, held in zip(grams, counted):
        words = gram.split()
        inner = {columns.get(" ".join(words[i : i + n])) for n in range(1, len(words))
                 for i in range(len(words) - n + 1)}
        own = held - inner
        if own:
            columns[gram] = own.pop()
    return columns


def wide_shares(wide: keras.Model, texts, genres: list[int]) -> list[tuple[list[tuple[str, float]], float]]:
    """For each cleaned text, its n-grams' terms tfidf * W[n-gram, g] for its genre g (largest first) and b_g."""
    features = tf_idf(wide, np.asarray(texts, dtype=object))
    rows, columns = features.indices.numpy().T
    values = features.values.numpy().astype(np.float64)
    linear = wide.get_layer(LINEAR)
    kernel, bias = np.asarray(linear.kernel), np.asarray(linear.bias, np.float64)
    names = {column: gram for gram, column in ngram_columns(_layer(wide, keras.layers.TextVectorization),
                                                           texts).items()}
    shares = []
    for row, genre in enumerate(genres):
        mine = rows == row
        terms = values[mine] * kernel[columns[mine], genre].astype(np.float64)
        ngrams = sorted(zip((names[c] for c in columns[mine]), terms.tolist()), key=lambda item: -item[1])
        shares.append((ngrams, float(bias[genre])))
    return shares


def explain(model: keras.Model, plots, titles=None) -> list[Explanation]:
    """Each plot's top genre, explained (see the module's docstring); titles "" if None."""
    plots = list(plots)
    if not plots:
        return []
    titles = [""] * len(plots) if titles is None else list(titles)
    cleaned = cleaned_texts(model, plots, titles)
    vectorizer = _layer(model, keras.layers.TextVectorization)  # the members' words; the wide path's are its own
    max_len = vectorizer.get_config()["output_sequence_length"]
    words = [text.split() for text in cleaned]
    read = [every[:max_len] for every in words]
    ids = vectorizer(tf.constant(cleaned)).numpy()
    candidates = [list(dict.fromkeys(first)) for first in read]  # a word past max_len changes nothing
    variants = [without(every, word, max_len) for every, first in zip(words, candidates) for word in first]
    # The plots and all their variants through the model's paths in one call: one trace
    paths = predict_paths(model, plots + variants, titles + [""] * len(variants))
    member, originals = paths[0], [path[: len(plots)] for path in paths]
    layer = model.get_layer(BLEND)
    pooled, scales = np.asarray(layer(originals)), (layer.member_scale, layer.wide_scale)
    genres = np.argmax(pooled, axis=1).tolist()  # the first of equals, as predictions.top_genres
    wide = wide_path(model)
    if wide is not None:
        wide_alone = np.asarray(blend(originals[0], originals[1], 0.0, scales[1]))
        shares = wide_shares(wide, cleaned, genres)
    explanations, start = [], len(plots)
    for n, genre in enumerate(genres):
        drops = member[n, genre] - member[start : start + len(candidates[n]), genre]
        start += len(candidates[n])
        known = {word: bool(word_id != UNKNOWN) for word, word_id in zip(read[n], ids[n])}
        left_out = sorted((Word(w, float(d), known[w]) for w, d in zip(candidates[n], drops)), key=lambda w: -w.drop)
        explanation = Explanation(genre, pooled[n], member[n], scales, cleaned[n], len(read[n]), left_out)
        if wide is not None:
            explanation.scores, explanation.wide_alone = originals[1][n], wide_alone[n]
            explanation.ngrams, explanation.bias = shares[n]
        explanations.append(explanation)
    return explanations


def head_and_rest(ngrams: list[tuple[str, float]], n: int) -> tuple[list[tuple[str, float]], int, float]:
    """The first n n-grams, and how many others there are and their terms' sum."""
    rest = ngrams[n:]
    return ngrams[:n], len(rest), float(sum(term for _, term in rest))
