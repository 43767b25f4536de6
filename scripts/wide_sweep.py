"""The wide path's sweep on the validation split: members and fusion weight over seeds.

    python scripts/wide_sweep.py --seeds 42,43,44,45,46 --cache /tmp/wide_sweep

For each train.seed, params.yaml's train section with train.members: 5 trains five
members as the train stage trains them and keeps their validation probabilities
(in --cache, reused when there); the wide path is fitted once (its fit depends on
no seed). Then the first k members' average is pooled with the wide path at each
weight, log (the model's) or linear, and the temperature fitted: a markdown table
of validation accuracy, macro F1 and log-likelihood, mean and range over the seeds.
Run `dvc repro train` first (the tokenized and cleaned splits).
"""

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movie_genre import config, runtime  # noqa: E402
from movie_genre.modeling.schema import PARAMS  # noqa: E402
from movie_genre.params import load_params  # noqa: E402

MEMBERS = (1, 2, 3, 5)
WEIGHTS = {"log": (0.0, 0.9, 0.95, 0.97, 0.98, 0.99, 1.0), "linear": (0.3, 0.4, 0.5, 0.6, 0.7)}


def member_probabilities(params, seed, cache: Path):
    """Five members' validation probabilities for train.seed `seed`, (5, rows, genres)."""
    path = cache / f"val_probs_seed{seed}.npy"
    if path.is_file():
        return np.load(path)
    from movie_genre.modeling.members import run_members
    from movie_genre.modeling.train import _train_member, initial_vectors
    from movie_genre.vocabulary import RESERVED, read_sequences
    from movie_genre.word_vectors import read_vectors

    vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    genres = json.loads(config.GENRES_FILE.read_text(encoding="utf-8"))
    params = {**params, "seed": seed, "members": 5}
    word_vectors = initial_vectors(params, vocabulary, read_vectors(config.WORD_VECTORS_FILE))
    member = functools.partial(
        _train_member, params=params, word_vectors=word_vectors, n_words=len(vocabulary) + RESERVED,
        n_genres=len(genres), encoder=None,
        train_set=read_sequences(config.TOKENIZED_DIR / "train.parquet"),
        val_set=read_sequences(config.TOKENIZED_DIR / "val.parquet"),
    )
    probabilities = np.array([r[1] for r in run_members(member, 5, params["epochs"], params["arithmetic"])])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, probabilities)
    return probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,43,44,45,46")
    parser.add_argument("--cache", type=Path, required=True, help="members' validation probabilities, by seed")
    args = parser.parse_args()
    params = load_params("train", PARAMS)
    runtime.configure(params["arithmetic"])
    import pyarrow.parquet as pq
    import tensorflow as tf

    from movie_genre.calibration import fit_temperature, negative_log_likelihood, with_temperature
    from movie_genre.modeling.layers import blend
    from movie_genre.modeling.wide import fit_wide
    from movie_genre.scoring import score
    from movie_genre.vocabulary import read_texts

    genres = json.loads(config.GENRES_FILE.read_text(encoding="utf-8"))
    fit_texts, val_texts = read_texts(config.CLEANED_DIR / "train.parquet", config.TOKENIZED_DIR / "train.parquet",
                                      config.TOKENIZED_DIR / "val.parquet")
    fit_labels = pq.read_table(config.TOKENIZED_DIR / "train.parquet", columns=["label"])["label"].to_numpy()
    labels = pq.read_table(config.TOKENIZED_DIR / "val.parquet", columns=["label"])["label"].to_numpy()
    wide = fit_wide(params, fit_texts, fit_labels, len(genres))(tf.constant(np.asarray(val_texts, object))).numpy()
    sharpened = with_temperature(wide, fit_temperature(wide, labels))  # linear pooling needs it sharp
    members = {seed: member_probabilities(params, seed, args.cache) for seed in map(int, args.seeds.split(","))}
    names = np.array(genres)
    print("| pooling | members | w | val accuracy | val macro F1 | val NLL |\n|---|---|---|---|---|---|")
    for pooling, weights in WEIGHTS.items():
        for k in MEMBERS:
            for w in weights:
                rows = []
                for probabilities in members.values():
                    averaged = probabilities[:k].mean(axis=0)
                    pooled = (blend(averaged, wide, w).numpy() if pooling == "log"
                              else (1 - w) * averaged + w * sharpened)
                    calibrated = with_temperature(pooled, fit_temperature(pooled, labels))
                    scores = score(names[labels].tolist(), names[pooled.argmax(axis=1)].tolist(), genres)
                    rows.append((scores["accuracy"], scores["macro_f1"], negative_log_likelihood(calibrated, labels)))
                rows = np.array(rows)
                cells = [f"{rows[:, i].mean():.4f} ({rows[:, i].min():.3f}-{rows[:, i].max():.3f})" for i in range(3)]
                print(f"| {pooling} | {k} | {w} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
