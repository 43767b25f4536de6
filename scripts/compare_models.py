"""Print the LSTM's and the baseline's test figures side by side, as a Markdown table.

    python scripts/compare_models.py     # from metrics/{metrics,baseline,per_genre,baseline_per_genre}.json
"""

import json
from pathlib import Path


def table(lstm: dict, baseline: dict, lstm_genres: dict, baseline_genres: dict) -> str:
    rows = ["| | LSTM | TF-IDF + LinearSVC |", "|---|---|---|"]
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        rows.append(f"| **{key}** | {lstm['test'][key]:.4f} | {baseline['baseline'][key]:.4f} |")
    rows += ["", "| genre (test rows) | LSTM F1 | baseline F1 |", "|---|---|---|"]
    for genre in sorted(lstm_genres, key=lambda g: -lstm_genres[g]["support"]):
        ours, theirs = lstm_genres[genre], baseline_genres[genre]
        rows.append(f"| {genre} ({ours['support']}) | {ours['f1']:.2f} | {theirs['f1']:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    names = ("metrics.json", "baseline.json", "per_genre.json", "baseline_per_genre.json")
    print(table(*(json.loads((Path("metrics") / name).read_text()) for name in names)))
