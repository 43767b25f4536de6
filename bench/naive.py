"""The naive reference the seed describes, timed beside the pipeline.

Row by row pandas `.apply` cleaning, a Python dict tokenizer, every sequence
padded to a fixed 200 words.  Not used by the pipeline.

    python -m bench.naive RAW_DIR VOCAB_SIZE   # prints the seconds taken, imports excluded

bench.run runs it in its own process, as the stages run, so its memory never
counts towards the pipeline's.
"""

import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

FIXED_LEN = 200


def parse(path, labelled: bool):
    import pandas as pd

    names = ["id", "title", "genre", "plot"] if labelled else ["id", "title", "plot"]
    return pd.read_csv(path, sep=" ::: ", engine="python", names=names, quoting=3)


def clean(frame, stopwords):
    stop = set(stopwords)

    def one(text):
        text = re.sub(r"[^\w\s]", " ", text.lower())
        text = re.sub(r"\d+", " ", text)
        return " ".join(word for word in text.split() if word not in stop)

    frame["text"] = frame["plot"].apply(one)
    return frame


def tokenize(train_texts, texts, vocab_size: int):
    counts = Counter(word for text in train_texts for word in text.split())
    index = {word: i + 2 for i, (word, _) in enumerate(counts.most_common(vocab_size - 2))}
    matrix = np.zeros((len(texts), FIXED_LEN), dtype=np.int32)
    for row, text in enumerate(texts):
        ids = [index.get(word, 1) for word in text.split()][:FIXED_LEN]
        matrix[row, : len(ids)] = ids
    return matrix


def main(raw: Path, vocab_size: int) -> float:
    """Seconds to parse, clean and tokenize the files in `raw` (imports excluded)."""
    import pandas  # noqa: F401  (imported before the clock starts)

    from movie_genre.text import load_stopwords

    stopwords = load_stopwords(Path(__file__).resolve().parents[1] / "data/external/nltk_data")
    start = time.perf_counter()
    train = clean(parse(raw / "train_data.txt", True), stopwords)
    test = clean(parse(raw / "test_data_solution.txt", True), stopwords)
    tokenize(train["text"], list(train["text"]) + list(test["text"]), vocab_size)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(main(Path(sys.argv[1]), int(sys.argv[2])))
