"""Stage `export`: the saved model as a TensorFlow SavedModel for TensorFlow Serving (README, Serving).

    python -m stages.export

Writes models/serving/1/: the same model and arithmetic, callable from any process
with TensorFlow, without this package.
"""

import os

from movie_genre import config, runtime
from movie_genre.errors import run
from movie_genre.files import check_readable


def main() -> None:
    check_readable(config.MODEL_FILE, "model", "run `dvc repro train` first")
    flag, off = runtime.NO_SAVED_MODEL_FINGERPRINT
    os.environ[flag] = off  # before TensorFlow starts
    runtime.configure()
    with runtime.quiet_start_up():
        from movie_genre.modeling.export import export_saved_model
        from movie_genre.modeling.saving import load_model

        export_saved_model(load_model(config.MODEL_FILE), config.SERVING_DIR)
    print(f"exported {config.MODEL_FILE} to {config.SERVING_DIR} (signature serving_default: title, plot -> "
          "probabilities, genres, top_genre)")


if __name__ == "__main__":
    run(main)
