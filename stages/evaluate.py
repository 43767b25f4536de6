"""Stage `evaluate`: the saved model on the test rows only, fed raw text as a user would feed it.

    python -m stages.evaluate

metrics/metrics.json holds the test figures and, carried from the training log,
the validation figures to choose params by, so one committed file has both.
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
        from movie_genre.modeling.saving import genre_names, load_model, predict_texts

        model = load_model(config.MODEL_FILE)
        genres = genre_names(model)
        probabilities = predict_texts(model, test["plot"].to_pylist(), test["title"].to_pylist())
    predicted = np.array(genres)[probabilities.argmax(axis=1)].tolist()
    true = test["genre"].to_pylist()

    scores = score(true, predicted, genres)
    per_genre = scores.pop("per_genre")
    validation = json.loads(config.VALIDATION_FILE.read_text(encoding="utf-8"))
    labels = np.array([genres.index(genre) for genre in true])
    scores.update(calibration_figures(probabilities, labels, validation["temperature"]))
    write_json(config.METRICS_FILE, {"test": scores, "val": validation})
    plot_reliability(
        probabilities, labels, validation["temperature"], config.RELIABILITY_PLOT_FILE,
        f"LSTM, {len(labels)} test rows: accuracy by top-1 probability (15 bins)",
    )
    write_json(config.PER_GENRE_FILE, per_genre)
    write_text(config.REPORT_FILE, report(true, predicted, genres))
    write_confusion(true, predicted, config.CONFUSION_FILE)
    plot_per_genre_f1(
        per_genre, config.F1_PLOT_FILE,
        f"LSTM, per-genre F1 (test rows in brackets); macro F1 {scores['macro_f1']:.3f}",
    )
    print(f"test rows: {len(true)}; accuracy {scores['accuracy']}, macro F1 {scores['macro_f1']}, "
          f"weighted F1 {scores['weighted_f1']}")


if __name__ == "__main__":
    run(main)
