"""Stage `card`: the model card, models/MODEL_CARD.md, from metrics/ and params.yaml.

    python -m stages.card

No TensorFlow: it reads the figures parse, evaluate and baseline wrote, and writes
Hugging Face's card sections (movie_genre/card.py).
"""

import json

from movie_genre import config
from movie_genre.card import model_card
from movie_genre.errors import run
from movie_genre.files import write_text
from movie_genre.modeling.schema import PARAMS as TRAIN_PARAMS
from movie_genre.params import load_params
from movie_genre.vocabulary import PARAMS as TOKENIZE_PARAMS


def read_json(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def main() -> None:
    params = {"train": load_params("train", TRAIN_PARAMS), "tokenize": load_params("tokenize", TOKENIZE_PARAMS)}
    train_genres = read_json(config.PARSE_LEDGER_FILE)[config.TRAIN_FILE.name]["genres"]
    card = model_card(read_json(config.METRICS_FILE), read_json(config.BASELINE_FILE),
                      read_json(config.PER_GENRE_FILE), params, train_genres)
    write_text(config.MODEL_CARD_FILE, card)
    print(f"wrote {config.MODEL_CARD_FILE}")


if __name__ == "__main__":
    run(main)
