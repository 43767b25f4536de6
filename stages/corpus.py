"""Stage `corpus`: the outside descriptions, less every text that is also one of the
pipeline's own plots (train or test: the corpus README's rule), cleaned like the plots.

    python -m stages.corpus     # no params of its own; clean's stopwords
From the test file it reads the plots' first letters for the overlap rule, nothing else.
"""

import pyarrow.parquet as pq

from movie_genre import config, corpus, text
from movie_genre.errors import run
from movie_genre.files import write_json, write_parquet


def main() -> None:
    descriptions = corpus.read_descriptions(config.DESCRIPTIONS_FILE)
    own = {name: pq.read_table(config.PARSED_DIR / f"{name}.parquet", columns=["plot"])["plot"]
           for name in ("train", "test")}
    kept, dropped = corpus.without_overlaps(descriptions, own)
    texts, empty = corpus.cleaned(kept, text.load_stopwords())
    ledger = {
        "rows_read": len(descriptions),
        "dropped_same_as_train": dropped["train"],
        "dropped_same_as_test": dropped["test"],
        "dropped_empty_after_cleaning": empty,
        "rows_kept": len(texts),
    }
    write_parquet(texts, config.CORPUS_TEXTS_FILE)
    write_json(config.CORPUS_LEDGER_FILE, ledger)
    print(f"{config.DESCRIPTIONS_FILE}: {ledger['rows_read']} rows; dropped {dropped['train']} also in "
          f"train, {dropped['test']} also in test, {empty} empty once cleaned; kept {len(texts)}")


if __name__ == "__main__":
    run(main)
