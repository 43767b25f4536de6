"""Stage `evaluate`: score the saved model on the test rows only.

The model is used as a user would use it: loaded from its .keras file with safe
mode on and fed the raw plot text, so its own cleaning is part of what is scored.
"""

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from sklearn.metrics import accuracy_score, classification_report, precision_recall_fscore_support

from stages.common import run, write_text
from stages.train import MODEL_FILE

TEST_FILE = Path("data/parsed/test.parquet")
METRICS_FILE = Path("metrics/metrics.json")
REPORT_FILE = Path("metrics/classification_report.txt")
DIGITS = 4  # rounded so that metrics.json is stable text and diffs stay readable


def score(true_genres, predicted_genres, genres) -> dict:
    """accuracy, macro and weighted F1, and per-genre figures over every genre in `genres`."""
    precision, recall, f1, support = precision_recall_fscore_support(
        true_genres, predicted_genres, labels=genres, zero_division=0
    )
    weights = support / support.sum()
    return {
        "accuracy": round(float(accuracy_score(true_genres, predicted_genres)), DIGITS),
        "macro_f1": round(float(f1.mean()), DIGITS),
        "weighted_f1": round(float((f1 * weights).sum()), DIGITS),
        "per_genre": {
            genre: {
                "precision": round(float(p), DIGITS),
                "recall": round(float(r), DIGITS),
                "f1": round(float(f), DIGITS),
                "support": int(s),
            }
            for genre, p, r, f, s in zip(genres, precision, recall, f1, support)
        },
    }


def report(true_genres, predicted_genres, genres) -> str:
    return classification_report(
        true_genres, predicted_genres, labels=genres, digits=DIGITS, zero_division=0
    )


def main() -> None:
    from stages.model import genre_names, load_model, predict_texts

    model = load_model(MODEL_FILE)
    genres = genre_names(model)
    test = pq.read_table(TEST_FILE, columns=["genre", "plot"])
    probabilities = predict_texts(model, test["plot"].to_pylist())
    predicted = np.array(genres)[probabilities.argmax(axis=1)].tolist()
    true = test["genre"].to_pylist()

    metrics = score(true, predicted, genres)
    write_text(METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    write_text(REPORT_FILE, report(true, predicted, genres))
    print(f"test rows: {len(true)}; accuracy {metrics['accuracy']}, macro F1 {metrics['macro_f1']}, "
          f"weighted F1 {metrics['weighted_f1']}")


if __name__ == "__main__":
    run(main)
