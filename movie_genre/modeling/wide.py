"""The wide path: TF-IDF over the cleaned text's word 1- and 2-grams into one linear layer.

It reads the same cleaned text as the members, the whole text rather than its
first max_len words, and is fitted apart from them on the same rows: a linear SVM
(scikit-learn's LinearSVC, one genre against the rest, as the baseline) on the
layer's own TF-IDF output, so the saved model computes what was fitted; or
(train.wide: softmax) a softmax regression. Its output is a score per genre that
the saved model pools with the members' log-probabilities (modeling/layers.py
Blend). The ops are stock TensorFlow's with no vendor-defined instruction, and
liblinear's loops are plain C: the fingerprint has their lines.
"""

import collections

import keras
import numpy as np
import tensorflow as tf

from movie_genre.errors import PipelineError
from movie_genre.modeling.batching import class_weights
from movie_genre.modeling.layers import SparseLinear, TfIdf
from movie_genre.modeling.optimizers import make_optimizer

NGRAMS = 2  # word 1- and 2-grams, as the baseline's default
LINEAR = "wide_genre"  # the linear layer's name: its kernel is what predict --explain reads
CLASS_WEIGHT_POWER = 1.0  # "balanced", as the baseline: at the members' 0.5 it predicted drama alone
STEPS = 300  # softmax: full-batch steps; 600 ended at the same loss (docs/experiments.md)
LEARNING_RATE = 0.1
ABSENT_BIAS = -1.0  # a genre no fit row holds: the score of "not this genre" for every text


def ngram_vocabulary(texts, max_ngrams: int) -> tuple[list[str], np.ndarray]:
    """The texts' word 1- and 2-grams held by the most texts (ties alphabetically), at most
    `max_ngrams` of them, and how many texts hold each."""
    held = collections.Counter()
    for text in texts:
        words = text.split()
        held.update(set(words).union(map(" ".join, zip(words, words[1:]))))
    if not held:
        raise PipelineError("the training rows' cleaned texts hold no word: the wide path has nothing to read")
    ranked = sorted(held.items(), key=lambda item: (-item[1], item[0]))[:max_ngrams]
    return [ngram for ngram, _ in ranked], np.array([n for _, n in ranked], dtype=np.int64)


def idf(texts_holding: np.ndarray, n_texts: int) -> np.ndarray:
    """scikit-learn's smooth idf, ln((1 + n) / (1 + df)) + 1, with a 0 first for column 0 (no
    n-gram of the vocabulary). The log is TensorFlow's: NumPy's follows the CPU."""
    ratio = (1.0 + n_texts) / (1.0 + texts_holding.astype(np.float64))
    weights = tf.math.log(tf.constant(ratio, tf.float64)).numpy() + 1.0
    return np.concatenate([[0.0], weights]).astype(np.float32)


def build_wide(ngrams: list[str], idf_weights: np.ndarray, n_genres: int) -> keras.Model:
    """Cleaned texts in, a score per genre out: counts, TF-IDF, a linear layer."""
    texts = keras.Input(shape=(), dtype="string", name="cleaned_text")
    counts = keras.layers.TextVectorization(
        vocabulary=ngrams, standardize=None, split="whitespace", ngrams=NGRAMS, output_mode="count", sparse=True,
        name="ngram_counts",
    )(texts)
    features = TfIdf(len(ngrams) + 1, idf_weights, name="tf_idf")(counts)
    return keras.Model(texts, SparseLinear(n_genres, name=LINEAR)(features), name="wide")


def tf_idf(model: keras.Model, texts) -> tf.SparseTensor:
    """The wide model's TF-IDF features of `texts`: what its linear layer reads."""
    return keras.Model(model.inputs, model.get_layer(LINEAR).input)(tf.constant(np.asarray(texts, dtype=object)))


def fit_wide(params: dict, fit_texts, fit_labels: np.ndarray, n_genres: int) -> keras.Model:
    """The wide model fitted on the fit rows' cleaned texts: the n-grams, their idf, and the
    linear layer by train.wide (linear_svc: train.wide_C; softmax: train.wide_l2)."""
    ngrams, held = ngram_vocabulary(fit_texts, params["wide_max_ngrams"])
    model = build_wide(ngrams, idf(held, len(fit_texts)), n_genres)
    linear, features = model.get_layer(LINEAR), tf_idf(model, fit_texts)
    if params["wide"] == "linear_svc":
        linear.set_weights(fit_svm(features, fit_labels, n_genres, params["wide_C"], params["seed"]))
    else:
        row_weights = class_weights(fit_labels, n_genres, CLASS_WEIGHT_POWER)[fit_labels]
        for _ in fit_linear(linear, features, fit_labels, row_weights, params["wide_l2"], STEPS):
            pass
    return model


def fit_svm(features: tf.SparseTensor, labels: np.ndarray, n_genres: int, C: float, seed: int):
    """LinearSVC (balanced class weights, one genre against the rest) on the TF-IDF rows:
    the linear layer's kernel and bias, float32. A genre no row holds scores ABSENT_BIAS."""
    from scipy.sparse import csr_matrix
    from sklearn.svm import LinearSVC

    present = np.unique(labels)
    if len(present) < 2:
        raise PipelineError("the wide path's fit rows hold a single genre; a classifier needs two or more")
    indices = features.indices.numpy()
    x = csr_matrix((features.values.numpy().astype(np.float64), (indices[:, 0], indices[:, 1])),
                   shape=tuple(features.dense_shape.numpy()))
    # The dual solver, always: liblinear's primal one calls BLAS, whose kernels follow the CPU
    svm = LinearSVC(C=C, class_weight="balanced", dual=True, random_state=seed).fit(x, labels)
    coef, intercept = svm.coef_, svm.intercept_
    if len(present) == 2:  # one row for the second class; the first scores its negative
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    kernel = np.zeros((x.shape[1], n_genres), np.float32)
    bias = np.full(n_genres, ABSENT_BIAS, np.float32)
    kernel[:, present], bias[present] = coef.T, intercept
    return kernel, bias


def fit_linear(linear: SparseLinear, features: tf.SparseTensor, labels: np.ndarray, row_weights: np.ndarray,
               l2: float, steps: int):
    """Full-batch Adam on the mean of row-weighted cross-entropy plus l2/2 |W|^2; yields each step's loss.

    The problem is convex and every step sees every row, so the result depends on no
    seed or batch order; it has converged by STEPS (docs/experiments.md).
    """
    targets = tf.one_hot(labels, linear.units)
    weights = tf.constant(np.asarray(row_weights, np.float64) / len(labels), tf.float32)
    optimizer = make_optimizer("fused_adam", LEARNING_RATE)
    optimizer.build(linear.trainable_weights)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            losses = tf.nn.softmax_cross_entropy_with_logits(targets, linear(features))
            loss = tf.reduce_sum(losses * weights)
        kernel_gradient, bias_gradient = tape.gradient(loss, [linear.kernel, linear.bias])
        # The penalty's gradient l2 W, added as such: the loss never sums over the whole table
        optimizer.apply_gradients([(kernel_gradient + l2 * linear.kernel, linear.kernel),
                                   (bias_gradient, linear.bias)])
        return loss

    for _ in range(steps):
        yield step()
