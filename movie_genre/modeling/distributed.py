"""The final fit's member trained across processes or machines, on tf.distribute.MultiWorkerMirroredStrategy.

Every machine runs the same command in the project's root (after `dvc repro
tokenize word_vectors`), with TF_CONFIG naming the same cluster and its own index:

    TF_CONFIG='{"cluster": {"worker": ["host-a:23456", "host-b:23456"]},
                "task": {"type": "worker", "index": 0}}' python -m movie_genre.modeling.distributed

(index 1 on host-b; the port open between them).  The epoch's batches are the
same on every worker (same seed); of each group of W consecutive batches (W
workers) worker i trains on the i-th, and every step the workers' gradients are
averaged, so all of them end with the same weights.  A last group of fewer than W
batches is left out: each worker takes as many steps.  Without TF_CONFIG it
trains alone; `--merge W` then trains on each group's rows as one batch, the
steps W workers take together.

Prints one JSON line: worker, workers, steps, the last epoch's loss, the md5 of
the weights and the training rows this worker fed.  Gradients averaged across
workers are their own arithmetic: the same-bytes promise is for one process.
"""

import argparse
import hashlib
import json
import sys

import numpy as np

from movie_genre import config, runtime
from movie_genre.errors import run


def worker_groups(n_batches: int, workers: int) -> list[list[int]]:
    """Batch indices in groups of `workers`, one step each; a last, short group is left out."""
    return [list(range(start, start + workers)) for start in range(0, n_batches - workers + 1, workers)]


def training_step(strategy, trainer, optimizer, label_smoothing: float):
    """One synchronous step: each worker's batch on its replica, the gradients summed by Keras'
    optimizer across workers; returns the step's loss, averaged over the workers.

    `trainer` is the stage's training model (optimizers.training_model: the classifier up
    to its logits), and the loss the stage's: cross-entropy from the logits. Each
    replica's loss is its rows' weighted mean cross-entropy over the workers (as
    Keras' own train step scales it), so the sum is the mean over workers.  Keras'
    fit and train_on_batch are not used: under this strategy they fail reducing scalar
    metrics (reduce_per_replica passes axis=0 to a scalar; tensorflow/tensorflow#72388, Keras 3.15).
    """
    import keras
    import tensorflow as tf

    workers = strategy.num_replicas_in_sync

    def replica_step(ids, targets, row_weights):
        with tf.GradientTape() as tape:
            per_row = keras.losses.categorical_crossentropy(targets, trainer(ids, training=True), from_logits=True,
                                                            label_smoothing=label_smoothing)
            loss = tf.reduce_mean(per_row * tf.cast(row_weights, per_row.dtype))
            scaled = loss / workers
        variables = trainer.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return loss

    @tf.function(reduce_retracing=True)
    def step(ids, targets, row_weights):
        per_worker = strategy.run(replica_step, args=(ids, targets, row_weights))
        return strategy.reduce("MEAN", per_worker, axis=None)

    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m movie_genre.modeling.distributed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--merge", type=int, default=0, metavar="W",
                        help="alone: train on each group of W batches' rows as one batch (to compare with W workers)")
    parser.add_argument("--every-batch", action="store_true",
                        help="each worker trains on every batch (wrong: the control of the test that checks the split)")
    args = parser.parse_args(argv)
    runtime.configure()
    with runtime.quiet_start_up():
        import keras
        import tensorflow as tf

        from movie_genre.modeling.batching import LengthBatches, class_weights
        from movie_genre.modeling.build import build_classifier, learned_rows
        from movie_genre.modeling.optimizers import training_model
        from movie_genre.modeling.schema import PARAMS, check_params
        from movie_genre.modeling.train import initial_vectors
        from movie_genre.params import load_params
        from movie_genre.vocabulary import RESERVED, read_sequences
        from movie_genre.word_vectors import read_vectors

        params = load_params("train", PARAMS)
        check_params(params)
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                implementation=tf.distribute.experimental.CommunicationImplementation.RING
            )
        )
        workers = strategy.num_replicas_in_sync
        worker = strategy.cluster_resolver.task_id or 0
        if args.merge and workers > 1:
            parser.error("--merge compares one process with W workers: run it without TF_CONFIG")
        vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
        n_genres = len(json.loads(config.GENRES_FILE.read_text(encoding="utf-8")))
        x, lengths, y = read_sequences(config.TOKENIZED_DIR / "train.parquet")
        corpus = read_vectors(config.WORD_VECTORS_FILE) if params["embedding"] == "corpus" else None
        vectors = initial_vectors(params, vocabulary, corpus)
        weights = class_weights(y, n_genres, params["class_weight_power"])[y]
        batches = LengthBatches(x, lengths, y, n_genres, params["batch_size"], params["seed"], weights)
        group = args.merge or workers
        steps_per_epoch = len(worker_groups(len(batches), group))
        with strategy.scope():
            keras.utils.set_random_seed(params["seed"])
            classifier = build_classifier(len(vocabulary) + RESERVED, n_genres, params, vectors, learned_rows(x))
            trainer = training_model(classifier, params, args.epochs * steps_per_epoch)
            optimizer = trainer.optimizer
        step = training_step(strategy, trainer, optimizer, params["label_smoothing"])
        fed = []
        for _ in range(args.epochs):
            losses = []
            for indices in worker_groups(len(batches), group):
                if args.every_batch:
                    steps = [[i] for i in indices]
                else:
                    steps = [indices] if args.merge else [[indices[worker]]]
                for chosen in steps:
                    rows = np.concatenate([batches.batches[i] for i in chosen])
                    losses.append(float(step(*batches.batch_of(rows))))
                    fed.extend(rows.tolist())
            batches.on_epoch_end()
        md5 = hashlib.md5()
        for weight in classifier.weights:
            md5.update(np.ascontiguousarray(weight.numpy()).tobytes())
    print(json.dumps({"worker": worker, "workers": workers, "steps": int(optimizer.iterations.numpy()),
                      "loss": float(np.mean(losses)), "weights": md5.hexdigest(), "rows": fed}))


if __name__ == "__main__":
    sys.exit(run(main))
