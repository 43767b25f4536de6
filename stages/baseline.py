"""Stage `baseline`: TF-IDF + linear SVM on the same cleaned text, scored on the same test rows.

The reference every experiment is compared with: `metrics/baseline.json` has the
same keys as `metrics/metrics.json`. Defaults were chosen by 4-fold
cross-validation on the training file (README, Params).
"""

import json
from pathlib import Path

import pyarrow.parquet as pq

from stages.common import Param, load_params, run, write_text
from stages.evaluate import score

PARAMS = {
    "ngram_max": Param(int, low=1, high=3),
    "min_df": Param(int, low=1),
    "C": Param(float, low=0, exclusive=True),
    "class_weight": Param(str, choices=("none", "balanced")),
    "seed": Param(int, low=0),
}
IN_DIR = Path("data/cleaned")
METRICS_FILE = Path("metrics/baseline.json")


def build_baseline(params: dict):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, params["ngram_max"]), min_df=params["min_df"], sublinear_tf=True),
        LinearSVC(
            C=params["C"],
            class_weight=None if params["class_weight"] == "none" else params["class_weight"],
            random_state=params["seed"],
        ),
    )


def main() -> None:
    params = load_params("baseline", PARAMS)
    train = pq.read_table(IN_DIR / "train.parquet", columns=["genre", "text"])
    test = pq.read_table(IN_DIR / "test.parquet", columns=["genre", "text"])
    model = build_baseline(params).fit(train["text"].to_pylist(), train["genre"].to_pylist())
    predicted = model.predict(test["text"].to_pylist()).tolist()
    genres = sorted(set(train["genre"].to_pylist()))
    metrics = score(test["genre"].to_pylist(), predicted, genres)
    write_text(METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    print(f"baseline on {len(predicted)} test rows: accuracy {metrics['accuracy']}, macro F1 {metrics['macro_f1']}")


if __name__ == "__main__":
    run(main)
