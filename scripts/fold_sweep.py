"""The choices issue 32 redid, on out-of-fold predictions over every training row, 5 fold seeds.

    python scripts/fold_sweep.py [--cache DIR] [--seeds 42 43 44 45 46]
    python scripts/fold_sweep.py --baseline      # the baseline stage's out-of-fold figures on the same folds
    python scripts/fold_sweep.py --refit-rule    # the final fit's epoch rule, from the cached folds only

For each seed s (tokenize.seed and train.seed both s): the members of the 5 folds and
the final fit on every row, as the train stage trains them (cached in DIR: the
slow part); then each wide-path candidate's out-of-fold fits, the two scales fitted
on the out-of-fold rows, and its figures there and, as a guard, the any-genre hit on
the outside corpus's IMDb-sourced texts (movie_genre/outside.py). Also: how
optimistic early stopping on the held fold makes the member's out-of-fold figures
(the same fits at the final fit's fixed epoch count instead), and the final fit
against the five fold members averaged, on the guard. Prints markdown tables (mean
and range over the seeds). Reads no test row.
"""

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movie_genre import config, runtime, text  # noqa: E402
from movie_genre.outside import any_genre_hit, imdb_texts  # noqa: E402
from movie_genre.vocabulary import RESERVED, assign_folds, read_sequences, read_texts  # noqa: E402

CANDIDATES = {  # name: train params that differ from params.yaml
    "linear_svc C 0.1": {"wide": "linear_svc", "wide_C": 0.1},
    "linear_svc C 0.3": {"wide": "linear_svc", "wide_C": 0.3},
    "linear_svc C 1.0": {"wide": "linear_svc", "wide_C": 1.0},
    "softmax l2 0.001 (00f9b91's)": {"wide": "softmax", "wide_l2": 0.001},
    "none": {"wide": "none"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/fold_sweep"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44, 45, 46])
    parser.add_argument("--baseline", action="store_true", help="only the baseline's out-of-fold figures")
    parser.add_argument("--refit-rule", action="store_true",
                        help="only the refit rules' calibration, from the cached folds (no training)")
    args = parser.parse_args()
    all_params = yaml.safe_load(config.PARAMS_FILE.read_text())
    if args.baseline:
        print_baseline(all_params, args.seeds)
        return
    runtime.configure(all_params["train"]["arithmetic"])
    with runtime.quiet_start_up():
        import tensorflow  # noqa: F401
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = {seed: seed_rows(all_params, seed) for seed in args.seeds}
    if args.refit_rule:
        print_refit_rules({seed: refit_rules(all_params, seed, rows[seed], args.cache) for seed in args.seeds})
        return
    results = {seed: run_seed(all_params, seed, rows[seed], args.cache) for seed in args.seeds}
    print_tables(results)


def seed_rows(all_params: dict, seed: int):
    from movie_genre.modeling.train import Rows

    tokenized = config.TOKENIZED_DIR / "train.parquet"
    ids, lengths, labels = read_sequences(tokenized)
    [texts] = read_texts(config.CLEANED_DIR / "train.parquet", tokenized)
    tokenize = all_params["tokenize"]
    folds = assign_folds(labels, texts, tokenize["folds"], tokenize["val_split"], seed)
    return Rows(ids, lengths, labels, folds, texts)


def members(all_params: dict, seed: int, rows, cache: Path):
    """The folds' members and the final fit for this seed, from the cache if there."""
    path = cache / f"members_{seed}.pickle"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    from movie_genre.modeling.train import fit_classifiers, initial_vectors
    from movie_genre.word_vectors import read_vectors

    params = {**all_params["train"], "seed": seed}
    vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    vectors = initial_vectors(params, vocabulary, read_vectors(config.WORD_VECTORS_FILE))
    n_words = len(vocabulary) + RESERVED
    fits = fit_classifiers(params, vectors, n_words, 27, rows)
    result = {"folds": fits.folds, "epochs": fits.final_epochs, "final": fits.final_weights[0]}
    path.write_bytes(pickle.dumps(result))
    return result


def run_seed(all_params: dict, seed: int, rows, cache: Path) -> dict:
    from movie_genre.calibration import fit_scales, log_probabilities, pooled
    from movie_genre.modeling.build import build_classifier, build_text_model, learned_rows
    from movie_genre.modeling.saving import predict_paths
    from movie_genre.modeling.train import figures, final_wide_params, fit_wide_folds, out_of_fold_figures
    from movie_genre.modeling.wide import fit_wide

    fitted = members(all_params, seed, rows, cache)
    folds = fitted["folds"]
    genres = json.loads(config.GENRES_FILE.read_text(encoding="utf-8"))
    vocabulary = config.VOCABULARY_FILE.read_text(encoding="utf-8").splitlines()
    stopwords, max_len = text.load_stopwords(), rows.ids.shape[1]
    params = {**all_params["train"], "seed": seed}
    outside, genre_sets = imdb_texts(config.DESCRIPTIONS_FILE, genres)
    names = np.array(genres)

    def classifier(weights, name="classifier", fit_ids=rows.ids):
        model = build_classifier(len(vocabulary) + RESERVED, len(genres), params, None, learned_rows(fit_ids),
                                 name=name)
        model.set_weights(weights)
        return model

    member = classifier(fitted["final"])
    log_p = log_probabilities(folds.probabilities)
    result = {"epochs": fitted["epochs"], "kept": folds.kept_epochs, "candidates": {}}
    # Early stopping's optimism: each fold's member at the final fit's epoch count instead of its best epoch
    at_fixed = np.empty_like(folds.probabilities)
    for fold, per_epoch in enumerate(folds.per_epoch):
        at_fixed[rows.folds == fold] = per_epoch[min(fitted["epochs"], len(per_epoch)) - 1]
    result["member_kept"] = figures(folds.probabilities, rows.labels, genres)
    result["member_fixed"] = figures(at_fixed, rows.labels, genres)
    # The final fit against the fold members averaged, on the guard
    averaged = build_text_model([classifier(w, f"classifier_{i}", rows.ids[rows.folds != i])
                                 for i, w in enumerate(folds.weights)],
                                vocabulary, stopwords, genres, max_len)
    result["guard_fold_average"] = any_genre_hit(names[predict_paths(averaged, outside)[0].argmax(1)].tolist(),
                                                 genre_sets)
    for name, change in CANDIDATES.items():
        candidate = {**params, **change}
        if candidate["wide"] == "none":
            scales = fit_scales([log_p], rows.labels)
            figs = out_of_fold_figures(log_p, None, rows.labels, scales, genres)
            model = build_text_model(member, vocabulary, stopwords, genres, max_len, False, None, (scales[0], 0.0))
            outside_p = pooled([log_probabilities(predict_paths(model, outside)[0])], scales)
        else:
            wide_oof = fit_wide_folds(candidate, len(genres), rows).astype(np.float64)
            scales = fit_scales([log_p, wide_oof], rows.labels)
            figs = out_of_fold_figures(log_p, wide_oof, rows.labels, scales, genres)
            wide = fit_wide(final_wide_params(candidate, rows.fit_share), rows.texts, rows.labels, len(genres))
            model = build_text_model(member, vocabulary, stopwords, genres, max_len, False, wide, scales)
            member_p, wide_s = predict_paths(model, outside)
            outside_p = pooled([log_probabilities(member_p), wide_s.astype(np.float64)], scales)
            figs["guard_wide"] = any_genre_hit(names[wide_s.argmax(1)].tolist(), genre_sets)
            figs["guard_member"] = any_genre_hit(names[member_p.argmax(1)].tolist(), genre_sets)
        figs["guard"] = any_genre_hit(names[outside_p.argmax(1)].tolist(), genre_sets)
        result["candidates"][name] = figs
        print(f"seed {seed}, {name}: {json.dumps(figs)}", flush=True)
    return result


# name: (the fold members' epoch with as many optimizer steps as the final fit, from the kept
# epochs and k; the factor on the fold fits' wide_C with as much weight on each row's hinge loss)
REFIT_RULES = {
    "each fold's kept epoch, C (the scales' own rows)": (lambda kept, k: list(kept), lambda k: 1.0),
    "epochs: median kept; C as given (the final fit: k/(k-1) as many steps, C per row)":
        (lambda kept, k: [int(round(np.median(kept) * k / (k - 1)))] * len(kept), lambda k: k / (k - 1)),
    "epochs: median kept; C x (k-1)/k": (lambda kept, k: [int(round(np.median(kept) * k / (k - 1)))] * len(kept),
                                         lambda k: 1.0),
    "steps: median kept x (k-1)/k epochs; C as given": (lambda kept, k: [int(np.median(kept))] * len(kept),
                                                        lambda k: k / (k - 1)),
    "steps: median kept x (k-1)/k epochs; C x (k-1)/k": (lambda kept, k: [int(np.median(kept))] * len(kept),
                                                         lambda k: 1.0),
}


def refit_rules(all_params: dict, seed: int, rows, cache: Path) -> dict:
    """The final fit cannot be scored on the rows it trained on. Its stand-in: each fold's
    member at the epoch with as many optimizer steps as the final fit under a rule, and
    each fold's LinearSVC with C scaled to weigh a row's hinge loss as the final fit
    does (liblinear's C multiplies a sum over rows), pooled at the scales fitted on the
    folds as the stage fits them. Either path fitted harder sharpens the pooled model."""
    from movie_genre.calibration import calibration_figures, fit_scales, log_probabilities, pooled
    from movie_genre.modeling.train import figures, fit_wide_folds

    folds = members(all_params, seed, rows, cache)["folds"]
    genres = json.loads(config.GENRES_FILE.read_text(encoding="utf-8"))
    params = {**all_params["train"], "seed": seed}
    k = rows.n_folds
    wide = {factor: fit_wide_folds({**params, "wide_C": params["wide_C"] * factor}, len(genres), rows)
            .astype(np.float64) for factor in {c(k) for _, c in REFIT_RULES.values()}}
    scales = fit_scales([log_probabilities(folds.probabilities), wide[1.0]], rows.labels)
    result = {}
    for name, (epochs, c_factor) in REFIT_RULES.items():
        member = np.empty_like(folds.probabilities)
        for fold, epoch in enumerate(epochs(folds.kept_epochs, k)):
            per_epoch = folds.per_epoch[fold]
            member[rows.folds == fold] = per_epoch[min(epoch, len(per_epoch)) - 1]
        p = pooled([log_probabilities(member), wide[c_factor(k)]], scales)
        result[name] = {**figures(p, rows.labels, genres), **calibration_figures(p, rows.labels)}
        print(f"seed {seed}, {name}: {json.dumps(result[name])}", flush=True)
    return result


def print_refit_rules(results: dict) -> None:
    seeds = list(results)
    keys = ("accuracy", "macro_f1", "ece", "mean_top1")
    print(f"\n### The final fit's rule, its stand-in pooled out of fold, seeds {', '.join(map(str, seeds))}\n")
    print("| fold members at | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name in REFIT_RULES:
        print(f"| {name} | " + " | ".join(summary([results[s][name][k] for s in seeds]) for k in keys) + " |")


def print_baseline(all_params: dict, seeds: list[int]) -> None:
    """The baseline (baseline.* params) fitted per fold on the other folds, as the baseline stage does."""
    import pyarrow.parquet as pq

    from movie_genre.baseline import build_baseline
    from movie_genre.scoring import score

    cleaned = pq.read_table(config.CLEANED_DIR / "train.parquet", columns=["genre", "text"]).to_pydict()
    genres = sorted(set(cleaned["genre"]))
    labels = np.array([genres.index(g) for g in cleaned["genre"]])
    texts, names = np.array(cleaned["text"], dtype=object), np.array(cleaned["genre"], dtype=object)
    tokenize = all_params["tokenize"]
    figures = {"accuracy": [], "macro_f1": []}
    for seed in seeds:
        folds = assign_folds(labels, texts.tolist(), tokenize["folds"], tokenize["val_split"], seed)
        predicted = np.empty(len(labels), dtype=object)
        for fold in range(folds.max() + 1):
            held = folds == fold
            model = build_baseline(all_params["baseline"]).fit(texts[~held].tolist(), names[~held].tolist())
            predicted[held] = model.predict(texts[held].tolist())
        scores = score(names.tolist(), predicted.tolist(), genres)
        print(f"seed {seed}: accuracy {scores['accuracy']}, macro F1 {scores['macro_f1']}")
        for key in figures:
            figures[key].append(scores[key])
    print(f"baseline out of fold, seeds {seeds}: " + ", ".join(f"{k} {summary(v)}" for k, v in figures.items()))


def summary(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ({values.min():.4f}-{values.max():.4f})"


def print_tables(results: dict) -> None:
    seeds = list(results)
    print(f"\n### Out of fold over all 2,110 rows, seeds {', '.join(map(str, seeds))}: mean (range)\n")
    keys = ("accuracy", "macro_f1", "nll", "ece", "member_share", "guard")
    print("| wide path | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name in CANDIDATES:
        cells = [summary([results[s]["candidates"][name].get(key, np.nan) for s in seeds]) for key in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n### Each path alone, out of fold (linear_svc C 0.3)\n")
    for key in ("member_accuracy", "member_macro_f1", "wide_accuracy", "wide_macro_f1", "guard_member",
                "guard_wide"):
        print(f"- {key}: {summary([results[s]['candidates']['linear_svc C 0.3'][key] for s in seeds])}")
    print("\n### Early stopping on the held fold: the member out of fold\n")
    for key in ("accuracy", "macro_f1"):
        kept = summary([results[s]["member_kept"][key] for s in seeds])
        fixed = summary([results[s]["member_fixed"][key] for s in seeds])
        print(f"- {key}: at each fold's kept epoch {kept}; at the final fit's epoch count {fixed}")
    print(f"- final fit's epochs: {[results[s]['epochs'] for s in seeds]}; kept epochs: "
          f"{[results[s]['kept'] for s in seeds]}")
    print("\n### Final fit on every row against the 5 fold members averaged (member alone, guard)\n")
    print(f"- final fit: {summary([results[s]['candidates']['linear_svc C 0.3']['guard_member'] for s in seeds])}")
    print(f"- fold members averaged: {summary([results[s]['guard_fold_average'] for s in seeds])}")


if __name__ == "__main__":
    main()
