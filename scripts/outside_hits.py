"""The any-genre hit of a saved model on the outside corpus's 3,064 IMDb-sourced texts: the
model, and each of its paths alone (movie_genre/outside.py has the rule).

    python scripts/outside_hits.py [--model models/movie_genre_classification_model.keras]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movie_genre import config, runtime  # noqa: E402
from movie_genre.outside import any_genre_hit, imdb_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=config.MODEL_FILE)
    args = parser.parse_args()
    runtime.configure()
    with runtime.quiet_start_up():
        from movie_genre.modeling.saving import genre_names, load_model, predict_with_paths

        model = load_model(args.model)
        genres = np.array(genre_names(model))
        texts, genre_sets = imdb_texts(config.DESCRIPTIONS_FILE, genres.tolist())
        probabilities, *paths = predict_with_paths(model, texts)
    outputs = {"model": probabilities}
    if len(paths) > 1:
        outputs.update({"member alone": paths[0], "wide path alone": paths[1]})
    print(f"{len(texts)} IMDb-sourced texts; any-genre hit of the top genre:")
    for name, output in outputs.items():
        print(f"  {name}: {any_genre_hit(genres[output.argmax(axis=1)].tolist(), genre_sets):.4f}")


if __name__ == "__main__":
    main()
