"""Stage `train`: the folds' fits, the blend chosen on their out-of-fold predictions, and the
saved model fitted on every training row (modeling/train.py).

    python -m stages.train      # params: train.*, and clean.with_title (the saved model reads what clean read)
"""

import json
import shutil

from movie_genre import config, pretraining, runtime, text
from movie_genre.errors import PipelineError, run
from movie_genre.files import check_readable, write_json
from movie_genre.modeling.members import Workers
from movie_genre.modeling.schema import PARAMS, check_params
from movie_genre.params import load_params
from movie_genre.vocabulary import read_folds, read_sequences, read_texts
from movie_genre.word_vectors import read_vectors


def main() -> None:
    params = load_params("train", PARAMS)
    check_params(params)
    corpus_vectors = read_corpus_vectors(params) if params["embedding"] == "corpus" else None
    tokenized = config.TOKENIZED_DIR / "train.parquet"
    check_readable(tokenized, "tokenized training file", "run `dvc repro tokenize` first")
    folds = read_folds(tokenized)
    # The workers start TensorFlow beside this process's own start; started in the quiet
    # block, their start-up lines go through its filter too
    with runtime.quiet_start_up(), Workers((int(folds.max()) + 2) * params["members"], params["arithmetic"]) as workers:
        text_model, validation, partial_log = fit(params, tokenized, folds, corpus_vectors, workers)
    from movie_genre.modeling.saving import save_model

    save_model(text_model, config.MODEL_FILE)
    log_dir = config.TRAINING_LOG_DIR
    shutil.rmtree(log_dir, ignore_errors=True)
    partial_log.rename(log_dir)
    print(f"out of fold ({validation['rows']} rows): accuracy {validation['accuracy']}, macro F1 "
          f"{validation['macro_f1']}; saved {config.MODEL_FILE}")


def fit(params: dict, tokenized, folds, corpus_vectors, workers):
    """The text model and its out-of-fold figures, trained on `workers`; the training log
    written beside its final folder."""
    with_title = load_params("clean", text.PARAMS)["with_title"]
    runtime.configure(params["arithmetic"])
    vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    genres = json.loads(config.GENRES_FILE.read_text(encoding="utf-8"))
    texts = None
    if params["wide"] != "none":  # the wide path reads the rows' cleaned texts
        [texts] = read_texts(config.CLEANED_DIR / "train.parquet", tokenized)
    encoder = read_encoder() if params["encoder"] == "pretrained" else None

    # DVCLive writes as training goes, beside the final folder, which the new
    # one replaces only once training has finished: a killed run leaves no half log.
    log_dir = config.TRAINING_LOG_DIR
    partial_log = log_dir.with_name(".partial-" + log_dir.name)
    shutil.rmtree(partial_log, ignore_errors=True)
    from dvclive import Live
    from dvclive.utils import standardize_metric_name

    from movie_genre.modeling.train import Rows, train

    with Live(str(partial_log), save_dvc_exp=False, dvcyaml=None) as live:

        def log_epoch(logs):  # as dvclive.keras' callback logs an epoch
            for metric, value in logs.items():
                live.log_metric(standardize_metric_name(metric, "dvclive.keras"), value)
            live.next_step()

        rows = Rows(*read_sequences(tokenized), folds, texts)
        text_model, validation = train(
            params, vocabulary, genres, rows, text.load_stopwords(), with_title,
            log_epoch=log_epoch, corpus_vectors=corpus_vectors, encoder=encoder, workers=workers,
        )
    write_json(partial_log / config.VALIDATION_FILE.name, validation)
    return text_model, validation, partial_log


def read_encoder() -> dict:
    """The pretrain stage's weights by path (train.encoder: pretrained)."""
    encoder = pretraining.load_encoder(config.ENCODER_FILE) if config.ENCODER_FILE.is_file() else {}
    if not encoder:
        raise PipelineError(f"{config.ENCODER_FILE}: no encoder in it (pretrain trains one only under "
                            "train.encoder: pretrained); run `dvc repro` to rerun pretrain with it")
    return encoder


def read_corpus_vectors(params: dict):
    words, matrix = read_vectors(config.WORD_VECTORS_FILE)
    if matrix.shape[1] != params["embedding_dim"]:
        raise PipelineError(
            f"params.yaml: 'train.embedding_dim' is {params['embedding_dim']}; with train.embedding=corpus it "
            f"must be {matrix.shape[1]}, the width of {config.WORD_VECTORS_FILE} (word_vectors.dim)"
        )
    return words, matrix


if __name__ == "__main__":
    run(main)
