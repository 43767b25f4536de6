"""The classifier on word ids, and the end-to-end model on raw text that is saved."""

import keras
import numpy as np

from movie_genre.modeling.layers import (
    BLEND,
    AttentionPooling,
    Blend,
    ExactSoftmax,
    FusedLSTM,
    GenreNames,
    LearnedIdsEmbedding,
    MaskedMaxPooling,
    MaskedMeanPooling,
    PartlyFrozenEmbedding,
    PlotCleaner,
    TitleAndPlot,
    TrimPadding,
)

OUTPUT = "probabilities"  # the classifier's last layer, the head's activation


def learned_rows(ids) -> int:
    """Embedding rows that can train: ids above the largest in the fit rows never get a gradient."""
    return int(ids.max()) + 1


def learned_ids(ids) -> np.ndarray:
    """The embedding rows the fit rows read, padding (0) included: the only ones a gradient reaches."""
    return np.union1d(0, ids)


def saved_weights(classifier: keras.Model) -> list:
    """The classifier's weights as build_classifier(..., learned_rows(ids)) holds them: what is
    saved, also when training built it with learned_ids(ids)."""
    layer = classifier.get_layer("embedding")
    if not isinstance(layer, LearnedIdsEmbedding):
        return classifier.get_weights()
    table = layer.table()
    split = int(layer.learned_ids[-1]) + 1
    parts = {id(layer.learned): table[:split], id(layer.fixed): table[split:]}
    return [parts[id(w)] if id(w) in parts else w.numpy() for w in classifier.weights]


def build_classifier(
    vocab_size: int, n_genres: int, params: dict, word_vectors=None, learned_rows=None, name: str = "classifier",
    head_activation: str = "softmax", head_name: str = "genre",
) -> keras.Model:
    """Embedding -> (Bi)LSTM -> pooling over time -> Dense -> softmax on padded word ids (0 = padding).

    `word_vectors`, a (vocab_size, embedding_dim) array, starts the embedding from
    pretrained vectors instead of random ones.  Only the first `learned_rows` rows
    of the embedding train (all, if None; none if train.embedding_trainable is false);
    for training, an array of ids (learned_ids()) trains just those rows, the same way.
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
    dim = params["embedding_dim"]
    if word_vectors is None:  # Keras' Embedding default
        word_vectors = keras.initializers.RandomUniform(-0.05, 0.05)((vocab_size, dim))
    if not params["embedding_trainable"]:
        learned_rows = 0
    elif learned_rows is None:
        learned_rows = vocab_size
    if isinstance(learned_rows, np.ndarray):
        x = LearnedIdsEmbedding(vocab_size, dim, learned_rows, word_vectors, name="embedding")(ids)
    else:
        x = PartlyFrozenEmbedding(vocab_size, dim, min(learned_rows, vocab_size), word_vectors, name="embedding")(ids)
    x = keras.layers.SpatialDropout1D(params["dropout"], name="embedding_dropout")(x)
    lstm = FusedLSTM(params["lstm_units"], return_sequences=params["pooling"] != "last", name="lstm")
    x = keras.layers.Bidirectional(lstm, name="bidirectional")(x) if params["bidirectional"] else lstm(x)
    if params["pooling"] == "attention":
        x = AttentionPooling(params["lstm_units"], name="attention_over_time")(x)
    elif params["pooling"] != "last":  # max, mean or max_mean over the LSTM's outputs
        pooled = []
        if "max" in params["pooling"]:
            pooled.append(MaskedMaxPooling(name="max_over_time")(x))
        if "mean" in params["pooling"]:
            pooled.append(MaskedMeanPooling(name="mean_over_time")(x))
        x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="max_and_mean")(pooled)
    x = keras.layers.Dropout(params["dropout"], name="dropout")(x)
    logits = keras.layers.Dense(n_genres, name=head_name)(x)
    if head_activation == "softmax":
        probabilities = ExactSoftmax(name=OUTPUT)(logits)
    else:  # the pretraining's names: TensorFlow's sigmoid gives the same bits on every CPU
        probabilities = keras.layers.Activation(head_activation, name=OUTPUT)(logits)
    return keras.Model(ids, probabilities, name=name)


def logits(classifier: keras.Model):
    """The classifier's head before its activation: what training reads (from_logits=True)."""
    return classifier.get_layer(OUTPUT).input


def build_text_model(
    classifiers, vocabulary, stopwords, genres, max_len: int, with_title: bool = False,
    wide: keras.Model | None = None, scales=(1.0, 0.0),
) -> keras.Model:
    """Raw title and plot text in, genre probabilities out (the title is read only if `with_title`).

    `classifiers` is one classifier or a list whose probabilities are averaged (an
    ensemble); `wide` (modeling/wide.py), if given, reads the same cleaned text. The
    two are pooled as softmax(a log p + c s) at `scales` (a, c): the blend and the
    calibration in one (calibration.fit_scales).
    """
    classifiers = classifiers if isinstance(classifiers, list | tuple) else [classifiers]
    title = keras.Input(shape=(), dtype="string", name="title")
    plot = keras.Input(shape=(), dtype="string", name="plot")
    cleaned = PlotCleaner(stopwords, name="cleaner")(TitleAndPlot(with_title, name="text")([title, plot]))
    vectorize = keras.layers.TextVectorization(
        vocabulary=vocabulary, standardize=None, split="whitespace",
        output_mode="int", output_sequence_length=max_len, name="vectorizer",
    )
    ids = TrimPadding(name="trim_padding")(vectorize(cleaned))
    outputs = [classifier(ids) for classifier in classifiers]
    averaged = outputs[0] if len(outputs) == 1 else keras.layers.Average(name="ensemble")(outputs)
    paths = [averaged] if wide is None else [averaged, wide(cleaned)]
    pooled = Blend(*scales, name=BLEND)(paths)
    probabilities = GenreNames(genres, name="genres")(pooled)
    return keras.Model({"title": title, "plot": plot}, probabilities, name="movie_genre_classifier")

