"""Stage `baseline`: TF-IDF + LinearSVC on the cleaned text, scored as the LSTM is.

    python -m stages.baseline   # params: baseline.*

Fitted on the whole training file and scored on the test rows (`baseline`); and
fitted per fold on the other folds, tokenize's folds as the model's, and scored on
the held rows out of fold (`baseline_val`), so the two models can be compared where
params are chosen too.
"""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_genre import config
from movie_genre.baseline import PARAMS, build_baseline
from movie_genre.errors import PipelineError, run
from movie_genre.files import write_json
from movie_genre.params import load_params
from movie_genre.scoring import score
from movie_genre.vocabulary import read_folds


def fit_and_predict(params: dict, train, rows) -> list[str]:
    model = build_baseline(params).fit(train["text"].to_pylist(), train["genre"].to_pylist())
    return model.predict(rows["text"].to_pylist()).tolist()


def main() -> None:
    params = load_params("baseline", PARAMS)
    train = pq.read_table(config.CLEANED_DIR / "train.parquet", columns=["id", "genre", "text"])
    test = pq.read_table(config.CLEANED_DIR / "test.parquet", columns=["genre", "text"])
    genres = sorted(set(train["genre"].to_pylist()))
    scores = score(test["genre"].to_pylist(), fit_and_predict(params, train, test), genres)
    per_genre = scores.pop("per_genre")

    folds = read_folds(config.TOKENIZED_DIR / "train.parquet")
    ids = pq.read_table(config.TOKENIZED_DIR / "train.parquet", columns=["id"])["id"]
    if not ids.equals(train["id"]):
        raise PipelineError(f"{config.TOKENIZED_DIR / 'train.parquet'} holds other rows than "
                            f"{config.CLEANED_DIR / 'train.parquet'}; run `dvc repro tokenize`")
    true, predicted = [], []
    for fold in range(int(folds.max()) + 1):
        held = pa.array(folds == fold)
        true += train.filter(held)["genre"].to_pylist()
        predicted += fit_and_predict(params, train.filter(pc.invert(held)), train.filter(held))
    val_scores = score(true, predicted, genres)
    del val_scores["per_genre"]

    write_json(config.BASELINE_FILE, {"baseline": scores, "baseline_val": val_scores})
    write_json(config.BASELINE_PER_GENRE_FILE, per_genre)
    print(f"baseline on {len(test)} test rows: accuracy {scores['accuracy']}, macro F1 {scores['macro_f1']}; "
          f"out of fold on {len(true)} training rows: {val_scores['accuracy']}, {val_scores['macro_f1']}")


if __name__ == "__main__":
    run(main)
