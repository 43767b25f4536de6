"""Stage `clean`: lowercase, letters only, no stopwords (the rule: movie_genre/text.py).

    python -m stages.clean      # params: clean.*
"""

import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_genre import config
from movie_genre.errors import run
from movie_genre.files import ROW_GROUP, map_in_threads, write_parquet_batches
from movie_genre.params import load_params
from movie_genre.text import PARAMS, SCHEMA, clean_batch, load_stopwords


def clean_file(source, target, stopwords, with_title: bool) -> tuple[int, int]:
    """Clean a parsed Parquet file a row group at a time, in threads, so memory stays flat
    whatever its size; return its rows and how many were left empty."""
    parsed = pq.ParquetFile(source)
    empty = 0

    def cleaned():
        nonlocal empty
        batches = parsed.iter_batches(batch_size=ROW_GROUP, columns=["id", "genre", "title", "plot"])
        for batch in map_in_threads(lambda batch: clean_batch(batch, stopwords, with_title), batches):
            empty += pc.sum(pc.equal(batch["text"], "")).as_py()
            yield batch

    write_parquet_batches(cleaned(), SCHEMA, target)
    return parsed.metadata.num_rows, empty


def main() -> None:
    with_title = load_params("clean", PARAMS)["with_title"]
    stopwords = load_stopwords()
    for split in ("train", "test"):
        source, target = config.PARSED_DIR / f"{split}.parquet", config.CLEANED_DIR / f"{split}.parquet"
        rows, empty = clean_file(source, target, stopwords, with_title)
        print(f"{split}: {rows} plots cleaned, {empty} left empty (all stopwords or symbols)")


if __name__ == "__main__":
    run(main)
