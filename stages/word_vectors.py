"""Stage `word_vectors`: word vectors from the cleaned outside corpus (train.embedding: corpus).

    python -m stages.word_vectors   # params: word_vectors.*
"""

import pyarrow.parquet as pq

from movie_genre import config
from movie_genre.errors import PipelineError, run
from movie_genre.files import write_parquet
from movie_genre.params import load_params
from movie_genre.word_vectors import PARAMS, train_vectors


def main() -> None:
    params = load_params("word_vectors", PARAMS)
    texts = pq.read_table(config.CORPUS_TEXTS_FILE, columns=["text"])["text"]
    try:
        table = train_vectors(texts, params["words"], params["dim"], params["window"], params["seed"])
    except ValueError as error:
        raise PipelineError(f"{config.CORPUS_TEXTS_FILE}: {error}; lower word_vectors.dim") from error
    write_parquet(table, config.WORD_VECTORS_FILE)
    print(f"{config.WORD_VECTORS_FILE}: {len(table)} words, {params['dim']} dimensions")


if __name__ == "__main__":
    run(main)
