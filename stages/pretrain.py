"""Stage `pretrain`: the encoder learns the corpus's own genre names (train.encoder: pretrained).

    python -m stages.pretrain   # params: pretrain.*, and train.encoder
Reads the corpus texts (less those also in train or test: the corpus stage's rule),
their source genres and the vocabulary; no IMDb plot or genre. Under any other
train.encoder nothing reads the encoder: the stage writes an empty one and says so,
the same bytes whatever pretrain.* holds, so a pretrain.* trial reruns nothing else.
"""

import pyarrow.parquet as pq

from movie_genre import config, runtime
from movie_genre.errors import PipelineError, run
from movie_genre.files import write_json
from movie_genre.modeling.schema import PARAMS as TRAIN_PARAMS
from movie_genre.params import load_params
from movie_genre.pretraining import HELD_OUT, PARAMS, POOLED, held_out_rows, label_matrix, save_encoder
from movie_genre.vocabulary import RESERVED, embedding_matrix, padded, to_sequences
from movie_genre.word_vectors import read_vectors


def main() -> None:
    params = load_params("pretrain", PARAMS)
    encoder = load_params("train", TRAIN_PARAMS)["encoder"]
    if encoder != "pretrained":
        save_encoder({}, config.ENCODER_FILE)
        write_json(config.PRETRAIN_FILE, {"trained": False, "why": f"train.encoder is {encoder}: nothing reads "
                                          "the encoder (train.encoder: pretrained trains it)"})
        print(f"pretrain: skipped, train.encoder is {encoder}; wrote an empty {config.ENCODER_FILE}")
        return
    table = pq.read_table(config.CORPUS_TEXTS_FILE, columns=["genres", "text"])
    names, labels, pooled = label_matrix(table["genres"].to_pylist(), params["min_texts"])
    labelled = labels.sum(axis=1) > 0
    if labelled.sum() < 2:
        raise PipelineError(f"{config.CORPUS_TEXTS_FILE}: {labelled.sum()} texts with a genre name; "
                            "pretrain needs 2 or more")
    vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    sequences, lengths = to_sequences(table["text"].filter(labelled), vocabulary, params["max_len"])
    texts = (padded(sequences, params["max_len"]), lengths)
    labels = labels[labelled]
    words, vectors = read_vectors(config.WORD_VECTORS_FILE)
    if vectors.shape[1] != params["embedding_dim"]:
        raise PipelineError(
            f"params.yaml: 'pretrain.embedding_dim' is {params['embedding_dim']}; it must be {vectors.shape[1]}, "
            f"the width of {config.WORD_VECTORS_FILE} (word_vectors.dim)"
        )
    matrix, _ = embedding_matrix(vocabulary, RESERVED, words, vectors, params["seed"])
    _, held_out = held_out_rows(len(labels), HELD_OUT, params["seed"])
    runtime.configure()
    with runtime.quiet_start_up():
        from movie_genre.modeling.pretrain import pretrain

        weights, figures = pretrain(params, len(vocabulary) + RESERVED, matrix, texts, labels, held_out)
    counts = labels.sum(axis=0).astype(int).tolist()
    ledger = {
        "texts_read": len(table), "texts_without_a_name": int((~labelled).sum()), "texts_used": int(len(labels)),
        **figures,
        "names": dict(zip(names, counts)),
        "pooled_as_other": {"names": len(pooled), "texts": int(counts[-1]) if names[-1] == POOLED else 0},
    }
    save_encoder(weights, config.ENCODER_FILE)
    write_json(config.PRETRAIN_FILE, ledger)
    e, m = figures["encoder"], figures["most_frequent_names"]
    print(f"pretrain: {len(labels)} texts, {len(names)} names ({len(pooled)} rare ones pooled as '{POOLED}'); "
          f"held out {len(held_out)}: micro F1 {e['micro_f1']}, macro F1 {e['macro_f1']} against "
          f"{m['micro_f1']} and {m['macro_f1']} for always the most frequent names; saved {config.ENCODER_FILE}")


if __name__ == "__main__":
    run(main)
