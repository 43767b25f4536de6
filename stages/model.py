"""The Keras model: a classifier on word ids, and the end-to-end model that is saved.

The saved model takes raw text (plot and title) and returns genre probabilities.  It carries
its own cleaning (the stopword list), vocabulary and genre names, so loading it
needs only the .keras file and this module, whose import registers the custom
layers for Keras' safe mode.
"""

import json
import os
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the log

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from stages.common import atomic_path  # noqa: E402

PACKAGE = "movie_genre"
NON_LETTERS = r"[^a-z]+"


def stopword_pattern(stopwords) -> str:
    """An RE2 pattern matching any stopword as a whole word of text made of a-z and spaces.

    Only words made of a-z can survive the cleaning, so the others ("don't") are left out.
    """
    words = sorted({w for w in stopwords if w.isascii() and w.isalpha() and w.islower()})
    return r"\b(?:" + "|".join(words) + r")\b"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PlotCleaner(keras.layers.Layer):
    """stages.clean's rule in TensorFlow ops; tests check the two agree on any text."""

    def __init__(self, stopwords, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.stopwords = list(stopwords)
        self._stopword_pattern = stopword_pattern(self.stopwords)

    def call(self, texts):
        texts = tf.strings.lower(texts)  # ASCII only, as stages.clean
        texts = tf.strings.regex_replace(texts, NON_LETTERS, " ")
        texts = tf.strings.regex_replace(texts, self._stopword_pattern, "")
        texts = tf.strings.regex_replace(texts, " +", " ")
        return tf.strings.strip(texts)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stopwords": self.stopwords}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TitleAndPlot(keras.layers.Layer):
    """The text the model reads: the plot, or with clean.with_title the title, a space and the plot."""

    def __init__(self, with_title: bool, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.with_title = with_title

    def call(self, title_and_plot):
        title, plot = title_and_plot
        return tf.strings.join([title, plot], " ") if self.with_title else plot

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "with_title": self.with_title}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TrimPadding(keras.layers.Layer):
    """Drop the padding columns no row of the batch uses: the LSTM then runs only
    as many steps as the batch's longest text, not max_len."""

    def call(self, ids):
        longest = tf.reduce_max(tf.reduce_sum(tf.cast(ids != 0, "int32"), axis=1))
        return ids[:, :longest]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GenreNames(keras.layers.Layer):
    """Passes probabilities through unchanged; carries the genre of each column."""

    def __init__(self, genres, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.genres = list(genres)

    def call(self, probabilities):
        return probabilities

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "genres": self.genres}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedMaxPooling(keras.layers.Layer):
    """Max over the time steps that are not padding (Keras' own max pooling ignores masks)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, sequences, mask=None):
        if mask is not None:
            sequences = tf.where(mask[:, :, None], sequences, tf.float32.min)
        return tf.reduce_max(sequences, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=PACKAGE)
class AttentionPooling(keras.layers.Layer):
    """A learned weighted mean over the time steps that are not padding (additive attention).

    Each step scores v . tanh(W h + b); a softmax over the text's own steps
    turns the scores into weights, so the words that tell the genre count most.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True
        self.score_hidden = keras.layers.Dense(units, activation="tanh", name="score_hidden")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, input_shape):
        self.score_hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.units))

    def call(self, sequences, mask=None):
        scores = self.score(self.score_hidden(sequences))[..., 0]
        if mask is not None:
            scores = tf.where(mask, scores, tf.float32.min)
        weights = tf.nn.softmax(scores, axis=1)
        return tf.reduce_sum(weights[..., None] * sequences, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PartlyFrozenEmbedding(keras.layers.Layer):
    """An embedding (id 0 = padding, masked) whose first `learned_rows` rows train and the rest stay fixed.

    Rows for words the training text lacks (GloVe's, with tokenize.glove_words)
    never get a gradient, yet Adam updates every row of a trainable table at every
    step.  Two tables, one trainable, give the same weights without that cost.
    """

    def __init__(self, rows: int, dim: int, learned_rows: int, initial=None, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.dim, self.learned_rows = rows, dim, learned_rows
        # A loaded model gets its values from the weights file: no initial values then.
        initial = np.zeros((rows, dim), "float32") if initial is None else np.asarray(initial, "float32")
        self.learned = self.add_weight(
            shape=(learned_rows, dim), initializer=keras.initializers.Constant(initial[:learned_rows]), name="learned"
        )
        self.fixed = self.add_weight(
            shape=(rows - learned_rows, dim), initializer=keras.initializers.Constant(initial[learned_rows:]),
            trainable=False, name="fixed",
        )

    def call(self, ids):
        if self.learned_rows == self.rows:
            return tf.gather(self.learned, ids)
        if self.learned_rows == 0:
            return tf.gather(self.fixed, ids)
        learned = ids < self.learned_rows
        from_learned = tf.gather(self.learned, tf.where(learned, ids, 0))
        from_fixed = tf.gather(self.fixed, tf.where(learned, 0, ids - self.learned_rows))
        return tf.where(learned[..., None], from_learned, from_fixed)

    def compute_mask(self, ids, mask=None):
        return ids != 0

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.dim)

    def get_config(self):
        return {**super().get_config(), "rows": self.rows, "dim": self.dim, "learned_rows": self.learned_rows}


def build_classifier(vocab_size: int, n_genres: int, params: dict, word_vectors=None, learned_rows=None) -> keras.Model:
    """Embedding -> (Bi)LSTM -> pooling over time -> Dense(softmax) on padded word ids (0 = padding).

    `word_vectors`, a (vocab_size, embedding_dim) array, starts the embedding from
    pretrained vectors instead of random ones.  Only the first `learned_rows` rows
    of the embedding train (all, if None; none if train.embedding_trainable is false).
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
    dim = params["embedding_dim"]
    if word_vectors is None:  # Keras' Embedding default
        word_vectors = keras.initializers.RandomUniform(-0.05, 0.05)((vocab_size, dim))
    if not params["embedding_trainable"]:
        learned_rows = 0
    elif learned_rows is None or learned_rows > vocab_size:
        learned_rows = vocab_size
    x = PartlyFrozenEmbedding(vocab_size, dim, learned_rows, word_vectors, name="embedding")(ids)
    x = keras.layers.SpatialDropout1D(params["dropout"], name="embedding_dropout")(x)
    lstm = keras.layers.LSTM(params["lstm_units"], return_sequences=params["pooling"] != "last", name="lstm")
    x = keras.layers.Bidirectional(lstm, name="bidirectional")(x) if params["bidirectional"] else lstm(x)
    if params["pooling"] == "attention":
        x = AttentionPooling(params["lstm_units"], name="attention_over_time")(x)
    elif params["pooling"] != "last":  # max, mean or max_mean over the LSTM's outputs
        pooled = []
        if "max" in params["pooling"]:
            pooled.append(MaskedMaxPooling(name="max_over_time")(x))
        if "mean" in params["pooling"]:
            pooled.append(keras.layers.GlobalAveragePooling1D(name="mean_over_time")(x))
        x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="max_and_mean")(pooled)
    x = keras.layers.Dropout(params["dropout"], name="dropout")(x)
    probabilities = keras.layers.Dense(n_genres, activation="softmax", name="genre")(x)
    return keras.Model(ids, probabilities, name="classifier")


class FusedAdam(keras.optimizers.Adam):
    """Keras' Adam, each update done by TensorFlow's fused kernel (ResourceApplyAdam).

    The same arithmetic in one pass over a weight and its two moments, where
    Keras' ops take about ten; on the embedding's ~20,000 learned rows that was a
    quarter of each training step.  It also sums an embedding row's gradients
    before squaring them, as Adam is defined; Keras' Adam, given the looked-up
    slices, squares each part of a repeated word's gradient apart.
    """

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].value.handle, v=self._velocities[index].value.handle,
            beta1_power=beta_1**step, beta2_power=beta_2**step, lr=tf.cast(learning_rate, dtype),
            beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=tf.convert_to_tensor(gradient),
        )


def training_model(classifier: keras.Model, params: dict, total_steps: int) -> keras.Model:
    """The classifier's layers, compiled for training.

    The optimizer belongs to this wrapper, so the classifier that goes into the
    saved model stays uncompiled and the file holds no optimizer state.
    """
    learning_rate = params["learning_rate"]
    if params["lr_schedule"] == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    model = keras.Model(classifier.inputs, classifier.outputs, name="training")
    model.compile(
        optimizer=FusedAdam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=params["label_smoothing"]),
        metrics=["accuracy"],
    )
    return model


def build_text_model(classifier, vocabulary, stopwords, genres, max_len: int, with_title: bool = False) -> keras.Model:
    """Raw title and plot text in, genre probabilities out (the title is read only if `with_title`)."""
    title = keras.Input(shape=(), dtype="string", name="title")
    plot = keras.Input(shape=(), dtype="string", name="plot")
    cleaned = PlotCleaner(stopwords, name="cleaner")(TitleAndPlot(with_title, name="text")([title, plot]))
    vectorize = keras.layers.TextVectorization(
        vocabulary=vocabulary, standardize=None, split="whitespace",
        output_mode="int", output_sequence_length=max_len, name="vectorizer",
    )
    ids = TrimPadding(name="trim_padding")(vectorize(cleaned))
    probabilities = GenreNames(genres, name="genres")(classifier(ids))
    return keras.Model({"title": title, "plot": plot}, probabilities, name="movie_genre_classifier")


def save_model(model: keras.Model, path) -> None:
    """Save atomically, byte for byte the same for the same weights.

    Keras stamps the zip entries and metadata.json with the time and numbers
    shared objects by memory address; DVC would see a new model on every run and
    `dvc.lock` would never settle.  Here the stamps go and the numbers are
    renumbered in order of appearance, which keeps every link between them.
    """
    with atomic_path(path) as stable:
        raw = stable.with_name(stable.stem + "-keras.keras")
        try:
            model.save(raw)
            with zipfile.ZipFile(raw) as source, zipfile.ZipFile(stable, "w") as target:
                for entry in source.infolist():
                    data = source.read(entry)
                    if entry.filename == "metadata.json":
                        metadata = json.loads(data)
                        metadata.pop("date_saved", None)
                        data = json.dumps(metadata, sort_keys=True).encode()
                    elif entry.filename == "config.json":
                        data = json.dumps(_renumber_shared_objects(json.loads(data), {})).encode()
                    target.writestr(zipfile.ZipInfo(entry.filename), data, compress_type=entry.compress_type)
        finally:
            raw.unlink(missing_ok=True)


def _renumber_shared_objects(node, numbers: dict):
    if isinstance(node, dict):
        return {
            key: numbers.setdefault(value, len(numbers) + 1) if key == "shared_object_id"
            else _renumber_shared_objects(value, numbers)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renumber_shared_objects(value, numbers) for value in node]
    return node


def load_model(path) -> keras.Model:
    """Load the saved text model with Keras' safe mode on (no arbitrary code)."""
    return keras.saving.load_model(path, safe_mode=True)


def genre_names(model: keras.Model) -> list[str]:
    return model.get_layer("genres").genres


def predict_texts(model: keras.Model, plots, titles=None, batch_size: int = 256):
    """Genre probabilities for raw plots (and their titles, "" if None), as a (plots, genres) array in input order.

    Texts go through in order of length so each batch is padded only to its
    longest text.
    """
    plots = list(plots)
    titles = [""] * len(plots) if titles is None else list(titles)
    if len(titles) != len(plots):
        raise ValueError(f"{len(titles)} titles for {len(plots)} plots")
    forward = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    order = np.argsort([len(title) + len(plot) for title, plot in zip(titles, plots)], kind="stable")
    probabilities = np.zeros((len(plots), len(genre_names(model))), dtype=np.float32)
    for start in range(0, len(plots), batch_size):
        rows = order[start : start + batch_size]
        batch = {"title": tf.constant([titles[i] for i in rows]), "plot": tf.constant([plots[i] for i in rows])}
        probabilities[rows] = forward(batch).numpy()
    return probabilities
