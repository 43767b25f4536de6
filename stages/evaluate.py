"""Stage `evaluate`: the saved model on the test rows only, fed raw text as a user would feed it.

    python -m stages.evaluate

metrics/metrics.json holds the test figures (the model's, and each path's alone)
and, carried from the training log, the out-of-fold figures over the training rows
that params are chosen by (`val`), so one committed file has both.
"""

import json

import numpy as np
import pyarrow.parquet as pq

from movie_genre import config, runtime
from movie_genre.calibration import calibration_figures, plot_reliability
from movie_genre.errors import run
from movie_genre.files import write_json, write_text
from movie_genre.scoring import plot_per_genre_f1, report, score, write_confusion


def main() -> None:
    runtime.configure()
    test = pq.read_table(config.PARSED_DIR / "test.parquet", columns=["genre", "title", "plot"])
    with runtime.quiet_start_up():
        from movie_genre.modeling.saving import genre_names, load_model, predict_with_paths

        model = load_model(config.MODEL_FILE)
        genres = genre_names(model)
        plots, titles = test["plot"].to_pylist(), test["title"].to_pylist()
        probabilities, *paths = predict_with_paths(model, plots, titles)
    names = np.array(genres)
    predicted = names[probabilities.argmax(axis=1)].tolist()
    true = test["genre"].to_pylist()

    scores = score(true, predicted, genres)
    per_genre = scores.pop("per_genre")
    labels = np.array([genres.index(genre) for genre in true])
    scores.update(calibration_figures(probabilities, labels))
    if len(paths) > 1:  # each path alone: its top genre
        for prefix, output in zip(("member_", "wide_"), paths):
            alone = score(true, names[output.argmax(axis=1)].tolist(), genres)
            scores.update({prefix + key: alone[key] for key in ("accuracy", "macro_f1", "weighted_f1")})
    validation = json.loads(config.VALIDATION_FILE.read_text(encoding="utf-8"))
    write_json(config.METRICS_FILE, {"test": scores, "val": validation})
    plot_reliability(
        {f"{len(labels)} test rows": (probabilities, labels)}, config.RELIABILITY_PLOT_FILE,
        "The model on the test rows: accuracy by top-1 probability (15 bins)",
    )
    write_json(config.PER_GENRE_FILE, per_genre)
    write_text(config.REPORT_FILE, report(true, predicted, genres))
    write_confusion(true, predicted, config.CONFUSION_FILE)
    plot_per_genre_f1(
        per_genre, config.F1_PLOT_FILE,
        f"The model, per-genre F1 (test rows in brackets); macro F1 {scores['macro_f1']:.3f}",
    )
    print(f"test rows: {len(true)}; accuracy {scores['accuracy']}, macro F1 {scores['macro_f1']}, "
          f"weighted F1 {scores['weighted_f1']}")


if __name__ == "__main__":
    run(main)
