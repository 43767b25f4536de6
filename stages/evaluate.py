"""Stage `evaluate`: score the saved model on the test rows only.

The model is used as a user would use it: loaded from its .keras file with safe
mode on and fed the raw plot text, so its own cleaning is part of what is scored.
"""

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from sklearn.metrics import accuracy_score, classification_report, precision_recall_fscore_support

from stages.common import atomic_path, run, write_text
from stages.train import MODEL_FILE

TEST_FILE = Path("data/parsed/test.parquet")
METRICS_FILE = Path("metrics/metrics.json")
REPORT_FILE = Path("metrics/classification_report.txt")
CONFUSION_FILE = Path("metrics/confusion.csv")
F1_PLOT_FILE = Path("metrics/per_genre_f1.png")
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


def write_confusion(true_genres, predicted_genres, path) -> None:
    """One row per test row, as DVC's `confusion` plot template reads it."""
    rows = "".join(f"{t},{p}\n" for t, p in zip(true_genres, predicted_genres))
    write_text(path, "actual,predicted\n" + rows)


def plot_per_genre_f1(per_genre: dict, path, title: str) -> None:
    """A bar per genre, best first, each labelled with its number of test rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(per_genre.items(), key=lambda item: (-item[1]["f1"], item[0]))
    names = [f"{genre} ({figures['support']})" for genre, figures in ranked]
    f1 = [figures["f1"] for _, figures in ranked]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(ranked) + 1.2))
    bars = ax.barh(names, f1, color="#4c72b0")
    ax.bar_label(bars, labels=[f"{value:.2f}" for value in f1], padding=2, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("F1 on the test rows")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def main() -> None:
    from stages.model import genre_names, load_model, predict_texts

    model = load_model(MODEL_FILE)
    genres = genre_names(model)
    test = pq.read_table(TEST_FILE, columns=["genre", "title", "plot"])
    probabilities = predict_texts(model, test["plot"].to_pylist(), test["title"].to_pylist())
    predicted = np.array(genres)[probabilities.argmax(axis=1)].tolist()
    true = test["genre"].to_pylist()

    metrics = score(true, predicted, genres)
    write_text(METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    write_text(REPORT_FILE, report(true, predicted, genres))
    write_confusion(true, predicted, CONFUSION_FILE)
    plot_per_genre_f1(
        metrics["per_genre"], F1_PLOT_FILE,
        f"LSTM, per-genre F1 (test rows in brackets); macro F1 {metrics['macro_f1']:.3f}",
    )
    print(f"test rows: {len(true)}; accuracy {metrics['accuracy']}, macro F1 {metrics['macro_f1']}, "
          f"weighted F1 {metrics['weighted_f1']}")


if __name__ == "__main__":
    run(main)
