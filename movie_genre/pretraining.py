"""The corpus's own genre names as labels for pretraining the encoder (no TensorFlow here).

Each source spells its genres its own way (Netflix `TV Dramas, International
Movies`, IMDb `Action,Adventure,Sci-Fi`, Wikipedia `Western`).  A name is
lowercased, split at commas, `&`, `/` and ` and `, stripped of words that say
only what kind of title it is (TV, movies, shows, ...), and mapped through
SYNONYMS; names on fewer than pretrain.min_texts texts are pooled as `other`.
"""

import io
import re
import zipfile

import numpy as np

from movie_genre.files import atomic_path
from movie_genre.params import Param

PARAMS = {
    "min_texts": Param(int, low=1),
    "max_len": Param(int, low=1),
    "epochs": Param(int, low=1),
    "embedding_dim": Param(int, low=1),
    "bidirectional": Param(bool),
    "lstm_units": Param(int, low=1),
    "pooling": Param(str, choices=("last", "max", "mean", "max_mean", "attention")),
    "seed": Param(int, low=0),
}
HELD_OUT = 0.1  # of the named texts, scored and not trained on
BATCH_SIZE, LEARNING_RATE, DROPOUT = 64, 0.002, 0.2
# What the encoder's shape is made of: train's params of the same name must agree under encoder: pretrained
ENCODER_KEYS = ("embedding_dim", "bidirectional", "lstm_units", "pooling")
POOLED = "other"
HEAD = "corpus_genres"  # the names' layer in the pretraining model and the joint one
EMBEDDING = "embedding"
KIND_WORDS = {"tv", "movies", "movie", "shows", "show", "series", "features", "films", "film", "programs"}
SYNONYMS = {
    "dramas": "drama", "comedies": "comedy", "documentaries": "documentary", "docuseries": "documentary",
    "thrillers": "thriller", "suspense": "thriller", "science fiction": "sci-fi", "sports": "sport",
    "animated": "animation", "anime": "animation", "cartoons": "animation", "romantic": "romance",
    "historical": "history", "biographical": "biography", "musicals": "musical", "kids'": "kids",
    "children": "kids", "action-adventure": "action", "mysteries": "mystery", "horrors": "horror",
    "reality tv": "reality", "stand-up comedy": "stand-up", "spy": "espionage",
}


def genre_names(field: str) -> list[str]:
    """One text's source genres, normalised; sorted, no repeats."""
    names = set()
    for part in re.split(r",|&|/|\band\b", field.lower()):
        words = [w for w in part.split() if w not in KIND_WORDS]
        name = " ".join(words).strip(" -")
        name = SYNONYMS.get(name, name)
        if name:
            names.add(name)
    return sorted(names)


def label_matrix(fields, min_texts: int) -> tuple[list[str], np.ndarray, dict]:
    """(names, texts x names 0/1 matrix, the pooled names with their texts) for `fields`.

    A name on fewer than `min_texts` texts becomes `other`; the names are in
    descending order of texts, ties alphabetical, `other` last.
    """
    per_text = [genre_names(field) for field in fields]
    counts = {}
    for names in per_text:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    kept = sorted((n for n, c in counts.items() if c >= min_texts and n != POOLED), key=lambda n: (-counts[n], n))
    pooled = {n: c for n, c in sorted(counts.items()) if n not in kept}
    columns = kept + [POOLED] * bool(pooled)
    index = {name: i for i, name in enumerate(kept)}
    matrix = np.zeros((len(per_text), len(columns)), np.float32)
    for row, names in enumerate(per_text):
        for name in names:
            matrix[row, index.get(name, len(kept))] = 1
    return columns, matrix, pooled


def held_out_rows(n: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (fit, held out): a random `share` of `n` rows held out, the same for the same seed."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * share))
    return np.sort(order[cut:]), np.sort(order[:cut])


def multilabel_scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Micro and macro F1 of 0/1 matrices (texts x names); a name neither has scores 0."""
    tp = (truth * predicted).sum(axis=0)
    fp = ((1 - truth) * predicted).sum(axis=0)
    fn = (truth * (1 - predicted)).sum(axis=0)
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1)
    per_name = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp, dtype=np.float64), where=2 * tp + fp + fn > 0)
    return {"micro_f1": round(float(micro), 4), "macro_f1": round(float(per_name.mean()), 4)}


def most_frequent_guess(fit: np.ndarray, rows: int) -> np.ndarray:
    """The reference to beat: every text gets the names on at least half the fit texts, or else
    the single most frequent name."""
    share = fit.mean(axis=0)
    chosen = share >= 0.5
    if not chosen.any():
        chosen[share.argmax()] = True
    return np.repeat(chosen[None, :].astype(np.float32), rows, axis=0)


def save_encoder(weights: dict[str, np.ndarray], path) -> None:
    """An .npz written atomically, the same bytes for the same weights (no time stamps)."""
    with atomic_path(path) as target, zipfile.ZipFile(target, "w") as archive:
        for name, array in weights.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(name.replace("/", "~") + ".npy"), buffer.getvalue())


def load_encoder(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name.replace("~", "/"): archive[name] for name in archive.files}
