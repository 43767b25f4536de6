"""Stage `baseline`: TF-IDF + LinearSVC on the cleaned text, scored as the LSTM is.

    python -m stages.baseline   # params: baseline.*

Two fits: on the whole training file, scored on the test rows (`baseline`), and
on the LSTM's fit rows only, scored on its validation rows (`baseline_val`), so
the two models can be compared where params are chosen too.
"""

import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_genre import config
from movie_genre.baseline import PARAMS, build_baseline
from movie_genre.errors import run
from movie_genre.files import write_json
from movie_genre.params import load_params
from movie_genre.scoring import score


def fit_and_score(params: dict, train, rows, genres) -> dict:
    model = build_baseline(params).fit(train["text"].to_pylist(), train["genre"].to_pylist())
    return score(rows["genre"].to_pylist(), model.predict(rows["text"].to_pylist()).tolist(), genres)


def main() -> None:
    params = load_params("baseline", PARAMS)
    train = pq.read_table(config.CLEANED_DIR / "train.parquet", columns=["id", "genre", "text"])
    test = pq.read_table(config.CLEANED_DIR / "test.parquet", columns=["genre", "text"])
    genres = sorted(set(train["genre"].to_pylist()))
    scores = fit_and_score(params, train, test, genres)
    per_genre = scores.pop("per_genre")

    val_ids = pq.read_table(config.TOKENIZED_DIR / "val.parquet", columns=["id"])["id"]
    in_val = pc.is_in(train["id"], value_set=val_ids)
    val_scores = fit_and_score(params, train.filter(pc.invert(in_val)), train.filter(in_val), genres)
    del val_scores["per_genre"]

    write_json(config.BASELINE_FILE, {"baseline": scores, "baseline_val": val_scores})
    write_json(config.BASELINE_PER_GENRE_FILE, per_genre)
    print(f"baseline on {len(test)} test rows: accuracy {scores['accuracy']}, macro F1 {scores['macro_f1']}; "
          f"on {int(pc.sum(in_val).as_py())} validation rows: {val_scores['accuracy']}, {val_scores['macro_f1']}")


if __name__ == "__main__":
    run(main)
