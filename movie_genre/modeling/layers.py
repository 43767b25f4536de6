"""The custom Keras layers the saved model holds, registered for Keras' safe mode, and
training's embedding (LearnedIdsEmbedding), which is never saved.

Loading the model needs only the .keras file and this package: importing this
module registers every layer under the package name.
"""

import keras
import numpy as np
import tensorflow as tf

PACKAGE = "movie_genre"
NON_LETTERS = r"[^a-z]+"


def exact_softmax(logits, axis=-1):
    """softmax as exp(x - max) / sum, a true division: the same bits on every x86-64 CPU.

    TensorFlow's own softmax multiplies by Eigen's inverse() of the sums, which is
    RCPPS and a Newton step on x86: its last bits are the CPU vendor's choice
    (docs/reproducibility.md).
    """
    # The shift changes no value, so no gradient flows through it
    exp = tf.exp(logits - tf.stop_gradient(tf.reduce_max(logits, axis=axis, keepdims=True)))
    return exp / tf.reduce_sum(exp, axis=axis, keepdims=True)


def stopword_pattern(stopwords) -> str:
    """An RE2 pattern matching any stopword as a whole word of text made of a-z and spaces.

    Only words made of a-z can survive the cleaning, so the others ("don't") are left out.
    """
    words = sorted({w for w in stopwords if w.isascii() and w.isalpha() and w.islower()})
    return r"\b(?:" + "|".join(words) + r")\b"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PlotCleaner(keras.layers.Layer):
    """movie_genre.text's cleaning rule in TensorFlow ops; tests check the two agree on any text."""

    def __init__(self, stopwords, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.stopwords = list(stopwords)
        self._stopword_pattern = stopword_pattern(self.stopwords)

    def call(self, texts):
        texts = tf.strings.lower(texts)  # ASCII only, as movie_genre.text
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
    as many steps as the batch's longest text, not max_len. At least one column
    stays, so a batch of texts with no word left is one padding step, which the
    LSTM can take (over no step at all it cannot)."""

    def call(self, ids):
        longest = tf.reduce_max(tf.reduce_sum(tf.cast(ids != 0, "int32"), axis=1))
        return ids[:, : tf.maximum(longest, 1)]

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
class ExactSoftmax(keras.layers.Layer):
    """The genre head's activation: logits in, probabilities out (exact_softmax). Training
    reads the logits before it (from_logits=True), as Keras would behind its own softmax."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)

    def call(self, logits):
        return exact_softmax(logits)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedMaxPooling(keras.layers.Layer):
    """Max over the time steps that are not padding (Keras' own max pooling ignores masks);
    0 for a text with no step at all, as the mean below."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, sequences, mask=None):
        if mask is None:
            return tf.reduce_max(sequences, axis=1)
        highest = tf.reduce_max(tf.where(mask[:, :, None], sequences, tf.float32.min), axis=1)
        return tf.where(tf.reduce_any(mask, axis=1)[:, None], highest, 0.0)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedMeanPooling(keras.layers.GlobalAveragePooling1D):
    """Keras' mean over the steps that are not padding, the same ops in the same order, but
    0 for a text with no step at all (Keras divides 0 by 0 there)."""

    def call(self, sequences, mask=None):
        if mask is None:
            return super().call(sequences)
        mask = mask[:, :, None]
        steps = tf.reduce_sum(tf.cast(mask, sequences.dtype), axis=1)
        return tf.reduce_sum(tf.where(mask, sequences, 0.0), axis=1) / tf.maximum(steps, 1.0)


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
        weights = exact_softmax(scores, axis=1)
        return tf.reduce_sum(weights[..., None] * sequences, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@tf.custom_gradient
def block_lstm(x, c, h, w, b):
    """An LSTM over time-major `x` from states (c, h), gates in Keras' order (i, f, c, o) over
    [x, h] @ w + b: its cell states and outputs at every step. TensorFlow registers
    BlockLSTMV2's gradient as the first version's, which reads the gates in another
    order; this one is its own, BlockLSTMGradV2."""
    no_peephole = tf.zeros_like(b[: tf.shape(h)[1]])
    inputs = dict(seq_len_max=tf.cast(tf.shape(x)[0], tf.int64), x=x, cs_prev=c, h_prev=h, w=w,
                  wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=b)
    i, cs, f, o, ci, co, hs = tf.raw_ops.BlockLSTMV2(**inputs, cell_clip=0.0, use_peephole=False)

    def gradient(cs_grad, h_grad):
        x_grad, c_grad, h_prev_grad, w_grad, _, _, _, b_grad = tf.raw_ops.BlockLSTMGradV2(
            **inputs, i=i, cs=cs, f=f, o=o, ci=ci, co=co, h=hs, cs_grad=cs_grad, h_grad=h_grad, use_peephole=False)
        return x_grad, c_grad, h_prev_grad, w_grad, b_grad

    return (cs, hs), gradient


@keras.saving.register_keras_serializable(package=PACKAGE)
class FusedLSTM(keras.layers.LSTM):
    """Keras' LSTM (same weights, gates, masking and outputs), each batch's sequences run
    by one TensorFlow op, BlockLSTMV2, whose kernel loops over the steps in C++: on a
    CPU Keras' own loop runs about ten small ops a step, each paying TensorFlow's cost
    per op (the gain: bench/RESULTS.md). The sums are grouped otherwise ([x, h] times
    both kernels stacked, one product), so the last bits differ from Keras' LSTM.

    The mask must be a prefix of each row (text, then padding), as the embedding's
    is. Configurations the op cannot run (dropout inside the cell, other activations,
    no bias) fall back to Keras' loop, and with a GPU, Keras' cuDNN kernel goes first.
    """

    def _fusable(self) -> bool:
        cell = self.cell
        return (not tf.config.list_logical_devices("GPU")
                and not cell.dropout and not cell.recurrent_dropout and cell.use_bias
                and cell.activation is keras.activations.tanh
                and cell.recurrent_activation is keras.activations.sigmoid)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, list | tuple):
            mask = mask[0]
        if not self._fusable():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        width = tf.shape(sequences)[1]
        if mask is None:
            lengths = tf.fill(tf.shape(sequences)[:1], width)
        else:
            lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
            prefix = tf.sequence_mask(lengths, width)
            tf.debugging.assert_equal(prefix, tf.cast(mask, tf.bool),
                                      message="FusedLSTM: padding inside a text (the mask is not a prefix)")
        if self.go_backwards:  # each text from its last word; the padding stays at the end
            sequences = tf.reverse_sequence(sequences, lengths, seq_axis=1, batch_axis=0)
        h, c = initial_state
        cell = self.cell
        kernels = tf.concat([cell.kernel, cell.recurrent_kernel], axis=0)
        cells, steps = block_lstm(tf.transpose(sequences, (1, 0, 2)), c, h, kernels, tf.convert_to_tensor(cell.bias))
        cells, steps = tf.transpose(cells, (1, 0, 2)), tf.transpose(steps, (1, 0, 2))
        # After its last word a text's state, and its output as Keras gives it, stay put
        last = tf.maximum(lengths - 1, 0)[:, None]
        some = (lengths > 0)[:, None]
        final_h = tf.where(some, tf.gather(steps, last, axis=1, batch_dims=1)[:, 0], h)
        final_c = tf.where(some, tf.gather(cells, last, axis=1, batch_dims=1)[:, 0], c)
        inside = tf.sequence_mask(lengths, width)[:, :, None]
        if self.go_backwards:  # Keras' order: the reversed padded sequence, padding first
            steps = tf.reverse(tf.reverse_sequence(steps, lengths, seq_axis=1, batch_axis=0), axis=[1])
            inside = tf.reverse(inside, axis=[1])
            carried = tf.zeros_like(steps)  # before a text's first step: nothing yet
        else:
            carried = tf.where(some[:, :, None], final_h[:, None, :], tf.zeros_like(steps))
        steps = tf.where(inside, steps, tf.zeros_like(steps) if self.zero_output_for_mask else carried)
        return final_h, steps, [final_h, final_c]


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


class LearnedIdsEmbedding(keras.layers.Layer):
    """Training's embedding: the rows of `learned_ids` (sorted) train, all others keep their
    start. The same weights, step for step, as PartlyFrozenEmbedding with learned_rows
    max(learned_ids) + 1: a row no training text reads never has a gradient, and Adam
    leaves such a row exactly where it is (its moments stay 0). But Adam's pass over
    every row of the trainable table, each step, covers only the rows the texts read.
    Not saved: saved_weights() (modeling/build.py) gives PartlyFrozenEmbedding's.
    """

    def __init__(self, rows: int, dim: int, learned_ids, initial, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.dim = rows, dim
        self.learned_ids = np.asarray(learned_ids)
        initial = np.asarray(initial, "float32")
        slots = np.full(rows, -1, "int32")
        slots[self.learned_ids] = np.arange(len(self.learned_ids), dtype="int32")
        self.slots = tf.constant(slots)
        self.learned = self.add_weight(shape=(len(self.learned_ids), dim), name="learned",
                                       initializer=keras.initializers.Constant(initial[self.learned_ids]))
        self.fixed = self.add_weight(shape=(rows, dim), initializer=keras.initializers.Constant(initial),
                                     trainable=False, name="fixed")

    def call(self, ids):
        slots = tf.gather(self.slots, ids)
        learned = slots >= 0
        # Rows as PartlyFrozenEmbedding indexes them: in id order, the fixed ones' (zero) gradients on the first
        from_learned = tf.gather(self.learned, tf.maximum(slots, 0))
        from_fixed = tf.gather(self.fixed, tf.where(learned, 0, ids))
        return tf.where(learned[..., None], from_learned, from_fixed)

    def compute_mask(self, ids, mask=None):
        return ids != 0

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.dim)

    def table(self) -> np.ndarray:
        """The whole table, every row where it is now."""
        table = self.fixed.numpy().copy()
        table[self.learned_ids] = self.learned.numpy()
        return table


@keras.saving.register_keras_serializable(package=PACKAGE)
class TfIdf(keras.layers.Layer):
    """Sparse n-gram counts in (column 0: out of the vocabulary, dropped), TF-IDF out as
    scikit-learn's sublinear_tf: (1 + log count) * idf, each row divided by its L2 norm.

    The norm is a square root and a true division: tf.math.l2_normalize's rsqrt is
    the CPU vendor's approximation (docs/reproducibility.md).
    """

    def __init__(self, n_columns: int, idf=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.n_columns = n_columns
        # A loaded model gets its values from the weights file
        initial = np.zeros(n_columns, "float32") if idf is None else np.asarray(idf, "float32")
        self.idf = self.add_weight(shape=(n_columns,), initializer=keras.initializers.Constant(initial),
                                   trainable=False, name="idf")

    def call(self, counts):
        counts = tf.sparse.retain(counts, counts.indices[:, 1] > 0)
        rows = counts.indices[:, 0]
        values = (1.0 + tf.math.log(tf.cast(counts.values, "float32"))) * tf.gather(self.idf, counts.indices[:, 1])
        norms = tf.sqrt(tf.math.unsorted_segment_sum(values * values, rows, counts.dense_shape[0]))
        return tf.SparseTensor(counts.indices, values / tf.gather(norms, rows), counts.dense_shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "n_columns": self.n_columns}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SparseLinear(keras.layers.Layer):
    """x W + b for a sparse x, through tf.sparse.sparse_dense_matmul (Keras' Dense takes
    another op for sparse inputs, embedding_lookup_sparse, which the fingerprint does not cover)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="zeros", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, features):
        return tf.sparse.sparse_dense_matmul(features, self.kernel) + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


BLEND = "blend"  # the saved model's pooling of its paths (build_text_model)


def blend(members, wide, member_scale: float, wide_scale: float):
    """The members' probabilities p and the wide path's scores s (or None) pooled:
    softmax(a log p + c s), a and c fitted on the out-of-fold rows (calibration.fit_scales)."""
    pooled = member_scale * tf.math.log(tf.maximum(members, 1e-12))
    if wide is not None:
        pooled = pooled + wide_scale * wide
    return exact_softmax(pooled)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Blend(keras.layers.Layer):
    """The members' probabilities and, if given, the wide path's scores in; blend()ed at the
    two fitted scales. The scales are the model's calibration too: no temperature follows."""

    def __init__(self, member_scale: float, wide_scale: float = 0.0, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.member_scale, self.wide_scale = float(member_scale), float(wide_scale)

    def call(self, paths):  # [members] or [members, wide]
        return blend(paths[0], paths[1] if len(paths) > 1 else None, self.member_scale, self.wide_scale)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "member_scale": self.member_scale, "wide_scale": self.wide_scale}
