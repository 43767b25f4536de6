"""The model card (Hugging Face's sections and metadata) and the README's results table,
both written from metrics/ and params.yaml, so neither can drift from what `dvc repro` made.

Pure functions of the figures: stages/card.py reads the files and writes the card;
scripts/readme_results.py rewrites the README's table; tests/test_card.py checks both.
"""

from collections import Counter

FULL_FILES = {"train": 54_214, "test": 54_200}  # rows of the public files the sample is a prefix of
FEW_ROWS = 10  # a genre with fewer training rows is named as a known limit
RESULTS_START = "<!-- results: scripts/readme_results.py writes this table from metrics/ -->"
RESULTS_END = "<!-- end of results -->"


def _pair(figures: dict, prefix: str = "") -> str:
    return f"{figures[prefix + 'accuracy']:.4f} / {figures[prefix + 'macro_f1']:.4f}"


def results_table(metrics: dict, baseline: dict, test_rows: int) -> str:
    """Accuracy / macro F1 of the model, each of its paths alone and the baseline, out of fold
    over every training row (or on the held-out split under folds: 1) and on the test rows."""
    val, test = metrics["val"], metrics["test"]
    held = (f"out of fold, {val['rows']:,} training rows" if val["folds"] > 1
            else f"held out, {val['rows']:,} training rows")
    lines = [f"| accuracy / macro F1 | {held} | test, {test_rows:,} rows |", "|---|---|---|",
             f"| **the model**: both paths pooled | **{_pair(val)}** | **{_pair(test)}** |"]
    if "member_accuracy" in test:
        lines += [f"| the BiLSTM alone | {_pair(val, 'member_')} | {_pair(test, 'member_')} |",
                  f"| the TF-IDF wide path alone | {_pair(val, 'wide_')} | {_pair(test, 'wide_')} |"]
    lines.append(f"| baseline: TF-IDF + `LinearSVC` | {_pair(baseline['baseline_val'])} | "
                 f"{_pair(baseline['baseline'])} |")
    return "\n".join(lines)


def readme_with_results(readme: str, table: str) -> str:
    """The README with the block between the results markers replaced by `table`."""
    start, end = readme.index(RESULTS_START) + len(RESULTS_START), readme.index(RESULTS_END)
    return readme[:start] + "\n" + table + "\n" + readme[end:]


def _metadata(metrics: dict, params: dict) -> str:
    test = metrics["test"]
    return "\n".join([
        "---",
        "language: en",
        "library_name: keras",
        "pipeline_tag: text-classification",
        "tags: [lstm, tf-idf, linear-svc, dvc, movie-genre]",
        "metrics: [accuracy, f1]",
        "model-index:",
        "- name: movie-genre-lstm",
        "  results:",
        "  - task: {type: text-classification, name: Movie genre from plot summary}",
        "    dataset: {name: IMDb genre classification (the committed sample), type: imdb-genre-classification,",
        "              split: test}",
        "    metrics:",
        f"    - {{type: accuracy, value: {test['accuracy']}}}",
        f"    - {{type: f1, name: macro F1, value: {test['macro_f1']}, args: {{average: macro}}}}",
        f"    - {{type: f1, name: weighted F1, value: {test['weighted_f1']}, args: {{average: weighted}}}}",
        "---",
    ])


def _genre_table(per_genre: dict, train_counts: Counter) -> list[str]:
    lines = ["| genre | training rows | test rows | precision | recall | F1 |", "|---|---|---|---|---|---|"]
    for genre, row in sorted(per_genre.items(), key=lambda item: -item[1]["f1"]):
        lines.append(f"| {genre} | {train_counts.get(genre, 0):,} | {row['support']:,} | {row['precision']:.4f} | "
                     f"{row['recall']:.4f} | {row['f1']:.4f} |")
    return lines


def model_card(metrics: dict, baseline: dict, per_genre: dict, params: dict, train_genres: dict) -> str:
    """The card's Markdown. `train_genres`: the training rows by genre (parse's ledger)."""
    val, test, train = metrics["val"], metrics["test"], params["train"]
    counts = Counter(train_genres)
    n_train, n_test = sum(counts.values()), sum(row["support"] for row in per_genre.values())
    never = sorted(genre for genre, row in per_genre.items() if row["f1"] == 0)
    few = sorted(genre for genre in per_genre if counts.get(genre, 0) < FEW_ROWS)
    wide = train["wide"] != "none"
    paths = (f"a BiLSTM over word vectors and a wide TF-IDF 1-2-gram `{train['wide']}` path" if wide
             else "a BiLSTM over word vectors")
    out = [
        _metadata(metrics, params), "",
        "# Model card: movie-genre-lstm", "",
        "Written by the `card` stage from `metrics/` and `params.yaml`; do not edit by hand "
        "(`dvc repro card`).", "",
        "## Model details", "",
        f"- What: {paths}, pooled as softmax(a log p + c s) with a = {val['member_scale']} and "
        f"c = {val['wide_scale']} fitted on the out-of-fold rows (`train.wide`: `{train['wide']}`).",
        "- File: `models/movie_genre_classification_model.keras` (DVC artifact `movie-genre-lstm`), a Keras 3 "
        "model that takes raw title and plot text and carries its own cleaning, vocabulary, n-grams and "
        "genre names; `models/serving/1/` is the same model as a TensorFlow SavedModel.",
        f"- Trained: each of {val['folds']} folds' fit on the other folds' rows, the choices made on the "
        f"rows each did not see; then on every training row for {val['final_epochs']} epochs "
        f"(`tokenize.folds`: {params['tokenize']['folds']}, `train.seed`: {train['seed']}).", "",
        "## Uses", "",
        "- Intended: suggesting one of 27 IMDb genres for an English plot summary, with a calibrated "
        "probability; ranking genres for a person to check.",
        "- Out of scope: any language but English; genres outside the 27; deciding alone where a wrong "
        "genre costs something: the top genre is wrong about half the time.", "",
        "## Training data", "",
        f"- {n_train:,} training rows: a prefix of the public IMDb genre classification files' "
        f"{FULL_FILES['train']:,} (`data/raw/train_data.txt`), 27 genres, heavily imbalanced "
        f"(largest: {', '.join(f'{g} {c:,}' for g, c in counts.most_common(3))}).",
        "- Word vectors from 67k outside film descriptions (`corpus`, `word_vectors` stages), rows also in "
        "the IMDb files removed.", "",
        "## Evaluation", "",
        f"Test: {n_test:,} rows of `test_data_solution.txt` (a prefix of its {FULL_FILES['test']:,}), never "
        "read by a choice. Out of fold: each training row predicted by the fit that did not see it.", "",
        results_table(metrics, baseline, n_test), "",
        "### Calibration", "",
        f"- Expected calibration error (15 bins): {test['ece']} on test, {val['ece']} out of fold. "
        f"Mean top probability {test['mean_top1']} on test against accuracy {test['accuracy']}"
        + (" (overconfident)." if test["mean_top1"] > test["accuracy"] else "."), "",
    ]
    if wide:
        out += [
            "### What each path weighs", "",
            f"- Share of the pooled scores' spread, out of fold: BiLSTM {val['member_share']}, "
            f"wide path {val['wide_share']}.",
            f"- Out-of-fold loss (NLL): {val['nll']} with both; {val['nll_without_wide']} without the wide "
            f"path; {val['nll_without_member']} without the BiLSTM.", "",
        ]
    out += [
        "### Per genre (test)", "",
        *_genre_table(per_genre, counts), "",
        "## Limitations", "",
        f"- Size: {n_train:,} training rows; the full files have {FULL_FILES['train']:,}. Figures on them "
        "will differ.",
        f"- Genres with under {FEW_ROWS} training rows: {', '.join(few) or 'none'}.",
        f"- Genres never predicted right on test (F1 0): {', '.join(never) or 'none'}.",
        "- English only: cleaning keeps a-z and drops NLTK's English stopwords.",
        "- Same bytes on every CPU: measured on the x86-64 CPUs `docs/reproducibility.md` lists (real "
        "chips and QEMU's models); no GPU and no other architecture has been measured.", "",
        "## How to get started", "",
        "```bash",
        'python -m stages.predict "A retired hitman takes one last job in Tokyo."',
        'python -m stages.predict --explain "A retired hitman takes one last job in Tokyo."',
        "```", "",
    ]
    return "\n".join(out)
