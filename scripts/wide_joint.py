"""The wide path trained jointly with one member, against the default's apart fit (docs/experiments.md).

    python scripts/wide_joint.py --seeds 42,43,44,45,46 --wide-lr-scale 10 [--class-weight-power 1]

One model whose logits are the member's plus the wide path's (the same n-grams
and TF-IDF as modeling/wide.py, fitted on the fit rows), trained as the member
is (params.yaml's train section, minibatches by length, early stopping on
validation macro F1), the wide layer at --wide-lr-scale times the learning
rate with train.wide_l2's penalty. Prints each seed's kept epoch and validation
accuracy and macro F1, then their mean and range. Not part of the pipeline.
Run `dvc repro train` first (the tokenized and cleaned splits, the corpus vectors).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movie_genre import config, runtime  # noqa: E402
from movie_genre.modeling.schema import PARAMS  # noqa: E402
from movie_genre.params import load_params  # noqa: E402


class KeptOnF1:
    """Early stopping on validation macro F1 (a Keras callback's on_epoch_end), keeping the best weights."""

    def __init__(self, model, val_batches, labels, n_genres, patience):
        import keras

        self.callback = keras.callbacks.LambdaCallback(on_epoch_end=self.on_epoch_end)
        self.model, self.val_batches, self.labels, self.n_genres, self.patience = (
            model, val_batches, labels, n_genres, patience)
        self.scores, self.kept, self.best, self.weights = [], 0, -1.0, None

    def on_epoch_end(self, epoch, logs=None):
        from sklearn.metrics import f1_score

        predicted = np.empty(len(self.labels), dtype=int)
        predicted[self.val_batches.rows()] = self.model.predict(self.val_batches, verbose=0).argmax(axis=1)
        f1 = f1_score(self.labels, predicted, labels=range(self.n_genres), average="macro", zero_division=0)
        self.scores.append(((predicted == self.labels).mean(), f1))
        if f1 > self.best:
            self.kept, self.best, self.weights = epoch + 1, f1, self.model.get_weights()
        elif epoch + 1 - self.kept >= self.patience:
            self.model.stop_training = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,43,44,45,46")
    parser.add_argument("--wide-lr-scale", type=float, default=10.0)
    parser.add_argument("--class-weight-power", type=float, help="instead of train.class_weight_power")
    args = parser.parse_args()
    params = load_params("train", PARAMS)
    if args.class_weight_power is not None:
        params["class_weight_power"] = args.class_weight_power
    runtime.configure(params["arithmetic"])
    import keras
    import tensorflow as tf

    from movie_genre.modeling.batching import LengthBatches, class_weights
    from movie_genre.modeling.build import build_classifier, logits
    from movie_genre.modeling.optimizers import FusedAdam
    from movie_genre.modeling.train import initial_vectors
    from movie_genre.modeling.wide import build_wide, idf, ngram_vocabulary
    from movie_genre.vocabulary import RESERVED, read_sequences, read_texts
    from movie_genre.word_vectors import read_vectors

    tf.config.experimental.enable_op_determinism()
    vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    genres = json.loads(config.GENRES_FILE.read_text(encoding="utf-8"))
    train_set = read_sequences(config.TOKENIZED_DIR / "train.parquet")
    val_set = read_sequences(config.TOKENIZED_DIR / "val.parquet")
    splits = read_texts(config.CLEANED_DIR / "train.parquet", config.TOKENIZED_DIR / "train.parquet",
                        config.TOKENIZED_DIR / "val.parquet")
    fit_texts, val_texts = (np.asarray(texts, dtype=object) for texts in splits)
    word_vectors = initial_vectors(params, vocabulary, read_vectors(config.WORD_VECTORS_FILE))
    ngrams, held = ngram_vocabulary(fit_texts, params["wide_max_ngrams"])

    class WithTexts(LengthBatches):
        def __init__(self, texts, *args, **kwargs):
            self.texts = texts
            super().__init__(*args, **kwargs)

        def batch_of(self, rows):
            ids, *rest = super().batch_of(rows)
            return ((ids, tf.constant(self.texts[rows].tolist())), *rest)

    n_genres, results = len(genres), []
    for seed in map(int, args.seeds.split(",")):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        classifier = build_classifier(len(vocabulary) + RESERVED, n_genres, params, word_vectors,
                                      int(train_set[0].max()) + 1)
        wide = build_wide(ngrams, idf(held, len(fit_texts)), n_genres)
        linear = wide.get_layer("wide_genre")
        ids, texts = classifier.inputs[0], keras.Input(shape=(), dtype="string")
        wide_logits = linear(keras.Model(wide.inputs, linear.input)(texts))
        joint = keras.Model([ids, texts], keras.layers.Add()([logits(classifier), wide_logits]))
        linear.kernel.regularizer = keras.regularizers.L2(params["wide_l2"] / 2)  # the apart fit's l2/2 |W|^2
        scales = {w.path: args.wide_lr_scale for w in linear.trainable_weights}
        joint.compile(optimizer=FusedAdam(params["learning_rate"], scales),
                      loss=keras.losses.CategoricalCrossentropy(from_logits=True))
        row_weights = class_weights(train_set[2], n_genres, params["class_weight_power"])[train_set[2]]
        batches = WithTexts(fit_texts, *train_set, n_genres, params["batch_size"], seed, row_weights)
        val_batches = WithTexts(val_texts, *val_set, n_genres, params["batch_size"])
        stopping = KeptOnF1(joint, val_batches, val_set[2], n_genres, params["patience"])
        joint.fit(batches, epochs=params["epochs"], verbose=0, callbacks=[stopping.callback])
        epoch, kept_weights, kept, scores = len(stopping.scores), stopping.weights, stopping.kept, stopping.scores
        joint.set_weights(kept_weights)
        accuracy, f1 = scores[kept - 1]
        results.append((accuracy, f1))
        print(f"seed {seed}: kept epoch {kept} of {epoch}, val accuracy {accuracy:.4f}, macro F1 {f1:.4f}", flush=True)
    rows = np.array(results)
    print(f"joint, wide lr scale {args.wide_lr_scale}, class weight power {params['class_weight_power']}: "
          f"val accuracy {rows[:, 0].mean():.4f} ({rows[:, 0].min():.3f}-{rows[:, 0].max():.3f}), "
          f"macro F1 {rows[:, 1].mean():.4f} ({rows[:, 1].min():.3f}-{rows[:, 1].max():.3f})")


if __name__ == "__main__":
    main()
