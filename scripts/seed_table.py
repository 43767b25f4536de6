"""Compare settings over several seeds, from `dvc exp show --csv`, as a Markdown table.

    dvc exp show --csv --drop '.*per_genre.*' | python scripts/seed_table.py tokenize.glove_words

One seed's validation figures move by several points on the 211 validation rows,
so a setting is judged by its mean over seeds (queue them with
`-S train.seed=...`).  Test figures are printed beside, never chosen by.
"""

import csv
import sys
from collections import defaultdict

FIGURES = {
    "val acc": "metrics/validation.json:accuracy",
    "val macro F1": "metrics/validation.json:macro_f1",
    "test acc": "metrics/metrics.json:accuracy",
    "test macro F1": "metrics/metrics.json:macro_f1",
}


def table(rows: list[dict], param: str) -> str:
    runs = defaultdict(dict)  # setting -> seed -> figures
    for row in rows:
        if row["typ"] == "baseline" or not row.get(param) or not row.get(FIGURES["val acc"]):
            continue  # experiments only: the workspace and commits repeat one of them
        runs[row[param]][row["train.seed"]] = [float(row[column]) for column in FIGURES.values()]
    lines = [f"| {param} | seeds | " + " | ".join(FIGURES) + " |", "|---|---|" + "---|" * len(FIGURES)]
    for setting, by_seed in sorted(runs.items(), key=lambda item: float(item[0])):
        seeds = sorted(by_seed, key=int)
        means = [sum(by_seed[s][i] for s in seeds) / len(seeds) for i in range(len(FIGURES))]
        cells = [f"**{mean:.3f}** ({min(by_seed[s][i] for s in seeds):.3f}-{max(by_seed[s][i] for s in seeds):.3f})"
                 for i, mean in enumerate(means)]
        lines.append(f"| {setting} | {', '.join(seeds)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(table(list(csv.DictReader(sys.stdin)), sys.argv[1]))
