"""Print the LSTM's and the baseline's test figures side by side, as a Markdown table.

    python scripts/compare_models.py            # from metrics/metrics.json and metrics/baseline.json
"""

import json
from pathlib import Path


def table(lstm: dict, baseline: dict) -> str:
    rows = ["| | LSTM | TF-IDF + LinearSVC |", "|---|---|---|"]
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        rows.append(f"| **{key}** | {lstm[key]:.4f} | {baseline[key]:.4f} |")
    rows += ["", "| genre (test rows) | LSTM F1 | baseline F1 |", "|---|---|---|"]
    ranked = sorted(lstm["per_genre"], key=lambda g: -lstm["per_genre"][g]["support"])
    for genre in ranked:
        ours, theirs = lstm["per_genre"][genre], baseline["per_genre"][genre]
        rows.append(f"| {genre} ({ours['support']}) | {ours['f1']:.2f} | {theirs['f1']:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    metrics = Path("metrics")
    print(table(json.loads((metrics / "metrics.json").read_text()), json.loads((metrics / "baseline.json").read_text())))
