"""Stage `tokenize`: the folds, the vocabulary (training words, then GloVe's), word-id sequences.

The vocabulary is fitted on every training row: it reads no label, so a held
fold's words being in it tells a fit nothing about that fold's genres (a word
that only held rows hold keeps its starting vector, as any unseen word does).

    python -m stages.tokenize   # params: tokenize.*
"""

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_genre import config, glove
from movie_genre.errors import run
from movie_genre.files import write_text
from movie_genre.params import load_params
from movie_genre.vocabulary import PARAMS, assign_folds, build_vocabulary, write_sequences


def main() -> None:
    params = load_params("tokenize", PARAMS)
    train = pq.read_table(config.CLEANED_DIR / "train.parquet")
    test = pq.read_table(config.CLEANED_DIR / "test.parquet")
    genres = sorted(set(train["genre"].to_pylist()))
    train_labels = pc.index_in(train["genre"], value_set=pa.array(genres)).to_numpy()
    test_labels = pc.index_in(test["genre"], value_set=pa.array(genres)).to_numpy()
    texts = train["text"].combine_chunks()
    folds = assign_folds(train_labels, texts, params["folds"], params["val_split"], params["seed"], genres)
    vocabulary = build_vocabulary(texts, params["vocab_size"])
    # Words the training text lacks but a plot to label may hold: with GloVe's
    # vectors they keep a meaning instead of all becoming the unknown word.
    vocabulary += glove.frequent_words(params["glove_words"], vocabulary)
    parts = {
        "train": (train["id"].to_numpy(), train_labels, texts, folds),
        "test": (test["id"].to_numpy(), test_labels, test["text"].combine_chunks(), None),
    }
    for name, (ids, labels, part_texts, part_folds) in parts.items():
        path = config.TOKENIZED_DIR / f"{name}.parquet"
        lengths = write_sequences(path, ids, labels, part_texts, vocabulary, params["max_len"], part_folds)
        cut = np.count_nonzero(lengths > params["max_len"])
        print(f"{name}: {len(ids)} rows, median {np.median(lengths):.0f} words, {cut} cut to max_len")
    held = np.bincount(folds[folds >= 0])
    print(f"folds: {params['folds']}, holding out {', '.join(map(str, held))} rows"
          + (f"; {np.count_nonzero(folds < 0)} rows in every fit" if params["folds"] == 1 else ""))
    write_text(config.VOCABULARY_FILE, "".join(word + "\n" for word in vocabulary))
    write_text(config.GENRES_FILE, json.dumps(genres, indent=1) + "\n")
    print(f"vocabulary: {len(vocabulary)} words (+ padding and out-of-vocabulary); {len(genres)} genres")


if __name__ == "__main__":
    run(main)
