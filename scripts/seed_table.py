"""Compare settings over several seeds, from `dvc exp show --csv`, as a Markdown table.

    dvc exp show --csv | python scripts/seed_table.py tokenize.glove_words
    dvc exp show --csv | python scripts/seed_table.py clean.with_title base- title-
    dvc exp show --csv | python scripts/seed_table.py train.embedding,train.members

The second form keeps only the experiments whose names start with one of the
prefixes, for when other sweeps of the same commit vary other params.  The third
groups by several params at once, a row per combination.

One seed's validation figures move by several points on the 211 validation rows,
so a setting is judged by its mean over seeds (queue them with
`-S train.seed=...`).  Test figures are printed beside, never chosen by.
"""

import csv
import sys
from collections import defaultdict

# metrics/metrics.json's keys; `dvc exp show --csv` names a column `FILE:KEY`, or
# `KEY` alone when no other metrics file has that key.
FIGURES = {
    "val acc": "val.accuracy",
    "val macro F1": "val.macro_f1",
    "test acc": "test.accuracy",
    "test macro F1": "test.macro_f1",
}


def figure(row: dict, key: str) -> str | None:
    return row.get(f"metrics/metrics.json:{key}") or row.get(key)


def setting_order(setting: str):
    """Numbers by value, then words alphabetically."""
    try:
        return (0, float(setting), "")
    except ValueError:
        return (1, 0.0, setting)


def table(rows: list[dict], param: str, name_prefixes: tuple[str, ...] = ("",)) -> str:
    params = param.split(",")
    runs = defaultdict(dict)  # setting -> seed -> figures
    for row in rows:
        if row["typ"] == "baseline" or not all(row.get(p) for p in params) or not figure(row, FIGURES["val acc"]):
            continue  # experiments only: the workspace and commits repeat one of them
        if not row.get("Experiment", "").startswith(name_prefixes):
            continue
        setting = " / ".join(row[p] for p in params)
        runs[setting][row["train.seed"]] = [float(figure(row, key)) for key in FIGURES.values()]
    lines = [f"| {' / '.join(params)} | seeds | " + " | ".join(FIGURES) + " |", "|---|---|" + "---|" * len(FIGURES)]
    for setting, by_seed in sorted(runs.items(), key=lambda item: setting_order(item[0])):
        seeds = sorted(by_seed, key=int)
        means = [sum(by_seed[s][i] for s in seeds) / len(seeds) for i in range(len(FIGURES))]
        cells = [f"**{mean:.3f}** ({min(by_seed[s][i] for s in seeds):.3f}-{max(by_seed[s][i] for s in seeds):.3f})"
                 for i, mean in enumerate(means)]
        lines.append(f"| {setting} | {', '.join(seeds)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(table(list(csv.DictReader(sys.stdin)), sys.argv[1], tuple(sys.argv[2:]) or ("",)))
