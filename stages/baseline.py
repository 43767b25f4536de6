"""Stage `baseline`: TF-IDF + LinearSVC on the cleaned text, scored on the same test rows as the LSTM.

    python -m stages.baseline   # params: baseline.*
"""

import pyarrow.parquet as pq

from movie_genre import config
from movie_genre.baseline import PARAMS, build_baseline
from movie_genre.errors import run
from movie_genre.files import write_json
from movie_genre.params import load_params
from movie_genre.scoring import score


def main() -> None:
    params = load_params("baseline", PARAMS)
    train = pq.read_table(config.CLEANED_DIR / "train.parquet", columns=["genre", "text"])
    test = pq.read_table(config.CLEANED_DIR / "test.parquet", columns=["genre", "text"])
    model = build_baseline(params).fit(train["text"].to_pylist(), train["genre"].to_pylist())
    predicted = model.predict(test["text"].to_pylist()).tolist()
    genres = sorted(set(train["genre"].to_pylist()))
    scores = score(test["genre"].to_pylist(), predicted, genres)
    per_genre = scores.pop("per_genre")
    write_json(config.BASELINE_FILE, {"baseline": scores})
    write_json(config.BASELINE_PER_GENRE_FILE, per_genre)
    print(f"baseline on {len(predicted)} test rows: accuracy {scores['accuracy']}, macro F1 {scores['macro_f1']}")


if __name__ == "__main__":
    run(main)
