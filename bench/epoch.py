"""One training run of the default model, timed, in a process of its own.

    python -m bench.epoch WORK_DIR '{"train params": ...}' [--fixed] [--epochs N] [--validate]

Prints one JSON line: seconds per epoch, rows, validation accuracy (with
--validate) and warm-up seconds.  Its own process, because TensorFlow fixes its
arithmetic (train.arithmetic) when it runs its first op: the portable and the
native sides cannot share one.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from movie_genre import runtime

WARM_UP_STEPS = 5


def epoch_seconds(work: Path, params: dict, fixed: bool, epochs: int = 1, validate: bool = False) -> dict:
    """Train on WORK's tokenized training split.  fixed=True pads every batch to max_len.

    Without `validate`, a few steps run before the clock: Keras traces the training
    step on its first batch (seconds, once per training run, not per epoch).
    """
    runtime.configure(params["arithmetic"])
    import keras

    from movie_genre import config
    from movie_genre.modeling.batching import LengthBatches
    from movie_genre.modeling.build import build_classifier, learned_rows
    from movie_genre.modeling.optimizers import training_model
    from movie_genre.modeling.pretrain import start_from_encoder
    from movie_genre.modeling.train import initial_vectors
    from movie_genre.pretraining import load_encoder
    from movie_genre.vocabulary import RESERVED, read_folds, read_sequences
    from movie_genre.word_vectors import read_vectors

    keras.utils.set_random_seed(params["seed"])
    tokenized = work / "data" / "tokenized"
    vocabulary = (tokenized / "vocabulary.txt").read_text().splitlines()
    n_genres = len(json.loads((tokenized / "genres.json").read_text()))
    x, lengths, y = read_sequences(tokenized / "train.parquet")
    held = read_folds(tokenized / "train.parquet") == 0  # fold 1's fit: trained on the others, scored on it
    x, lengths, y, val_x, val_len, val_y = x[~held], lengths[~held], y[~held], x[held], lengths[held], y[held]
    if fixed:  # every row as long as the longest, so each batch is max_len wide
        lengths, val_len = np.full_like(lengths, x.shape[1]), np.full_like(val_len, x.shape[1])
    batches = LengthBatches(x, lengths, y, n_genres, params["batch_size"], params["seed"])
    # The embedding starts as train's does (train.embedding), so the quality comparison is the real model's.
    corpus_vectors = read_vectors(work / config.WORD_VECTORS_FILE) if params["embedding"] == "corpus" else None
    # With train.encoder: pretrained the classifier starts from the pretrained encoder
    encoder = load_encoder(work / config.ENCODER_FILE) if params["encoder"] == "pretrained" else None
    vectors = initial_vectors(params, vocabulary, corpus_vectors, encoder)
    classifier = build_classifier(len(vocabulary) + RESERVED, n_genres, params, vectors, learned_rows(x))
    if encoder is not None:
        start_from_encoder(classifier, encoder, work / config.ENCODER_FILE)
    model = training_model(classifier, params, epochs * len(batches))
    start = time.perf_counter()
    if not validate:
        model.fit(batches, epochs=1, steps_per_epoch=WARM_UP_STEPS, verbose=0)
    warm_up = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(batches, epochs=epochs, verbose=0)
    seconds = (time.perf_counter() - start) / epochs
    accuracy = None
    if validate:
        val = LengthBatches(val_x, val_len, val_y, n_genres, params["batch_size"])
        accuracy = float(model.evaluate(val, verbose=0, return_dict=True)["accuracy"])
    return {"seconds": seconds, "rows": len(x), "accuracy": accuracy, "warm_up_s": warm_up}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.epoch", description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("params", type=json.loads)
    parser.add_argument("--fixed", action="store_true")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--validate", action="store_true")
    args = parser.parse_args()
    with runtime.quiet_start_up():
        result = epoch_seconds(args.work, args.params, args.fixed, args.epochs, args.validate)
    print(json.dumps(result))
