"""Stage `parse`: the raw ` ::: ` files into typed Parquet tables, every line accounted for.

    python -m stages.parse      # params: parse.*; format and errors: README, Input format
"""

import json
from collections import Counter

import pyarrow.compute as pc

from movie_genre import config
from movie_genre.errors import run
from movie_genre.files import write_parquet, write_text
from movie_genre.params import load_params
from movie_genre.records import PARAMS, parse_file


def main() -> None:
    on_error = load_params("parse", PARAMS)["on_error"]
    train, train_ledger, train_rejects = parse_file(config.TRAIN_FILE, True, None, on_error)
    known_genres = set(pc.unique(train["genre"]).to_pylist())
    test, test_ledger, test_rejects = parse_file(config.TEST_FILE, True, known_genres, on_error)
    write_parquet(train, config.PARSED_DIR / "train.parquet")
    write_parquet(test, config.PARSED_DIR / "test.parquet")
    rejects = [json.dumps(vars(r), ensure_ascii=False) for r in train_rejects + test_rejects]
    write_text(config.REJECTS_FILE, "".join(line + "\n" for line in rejects))
    ledger = {config.TRAIN_FILE.name: vars(train_ledger), config.TEST_FILE.name: vars(test_ledger)}
    for table, counts in ((train, ledger[config.TRAIN_FILE.name]), (test, ledger[config.TEST_FILE.name])):
        counts["genres"] = dict(sorted(Counter(table["genre"].to_pylist()).items()))  # accepted rows by genre
    write_text(config.PARSE_LEDGER_FILE, json.dumps(ledger, indent=2, sort_keys=True) + "\n")
    for name, counts in ledger.items():
        print(f"{name}: {counts['rows_accepted']} rows accepted, "
              f"{sum(counts['rows_rejected'].values())} rejected, {counts['blank_lines']} blank lines")


if __name__ == "__main__":
    run(main)
