"""Scores of predicted genres (accuracy, macro and weighted F1, per genre), the report and the plots.

No TensorFlow: the LSTM's evaluation and the baseline score the same way.
"""

from movie_genre.files import atomic_path, write_text

DIGITS = 4  # rounded so that metrics.json is stable text and diffs stay readable


def score(true_genres, predicted_genres, genres) -> dict:
    """accuracy, macro and weighted F1, and per-genre figures over every genre in `genres`."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

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
    from sklearn.metrics import classification_report

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
    save_png(fig, path)


def save_png(fig, path) -> None:
    """Lay the figure out, write it atomically without a software stamp (the same bytes
    for the same figure), and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
