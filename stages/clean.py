"""Stage `clean`: normalise plot text for the tokenizer.

The rule, shared with the model's own PlotCleaner layer (stages/model.py) so
that a saved model cleans raw text exactly as training did:
  1. lowercase A-Z (ASCII only; both sides then agree on every input),
  2. every run of characters other than a-z (punctuation, digits, accented
     letters, whitespace) becomes one space,
  3. NLTK's English stopwords are dropped, spaces collapsed, ends trimmed.
Both sides use RE2 (Arrow here, TensorFlow in the model), so the patterns mean
the same thing to both.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stages.common import PipelineError, atomic_path, run

NLTK_DATA = Path("data/external/nltk_data")
IN_DIR = Path("data/parsed")
OUT_DIR = Path("data/cleaned")

NON_LETTERS = r"[^a-z]+"


def load_stopwords(nltk_data: Path = NLTK_DATA) -> list[str]:
    """NLTK's English stopwords from the pinned, DVC-tracked corpus; never downloads.

    Only that folder is searched: a copy in ~/nltk_data may be another release
    (the list grew from 179 to 198 words in 2025) and would change every result.
    """
    import nltk
    from nltk.corpus.reader import StopwordsCorpusReader

    searched, nltk.data.path = nltk.data.path, [str(Path(nltk_data).resolve())]
    try:  # NLTK reads only below nltk.data.path, so read before restoring it
        root = nltk.data.find("corpora/stopwords.zip/stopwords/")
        return StopwordsCorpusReader(root, r"(?!README|\.).*", encoding="utf8").words("english")
    except LookupError as error:
        raise PipelineError(
            f"{nltk_data}/corpora/stopwords.zip: NLTK's stopwords corpus is missing; "
            "run `dvc pull data/external/nltk_data.dvc`"
        ) from error
    finally:
        nltk.data.path = searched


def stopword_pattern(stopwords) -> str:
    """An RE2 pattern matching any stopword as a whole word of cleaned text.

    Only words made of a-z can survive step 2, so the others ("don't") are left out.
    """
    words = sorted({w for w in stopwords if w.isascii() and w.isalpha() and w.islower()})
    return r"\b(?:" + "|".join(words) + r")\b"


def clean_texts(texts, stopwords) -> pa.Array:
    """Clean an array (or list) of texts; see the module's docstring for the rule."""
    texts = pc.ascii_lower(pa.array(texts, type=pa.string()))
    texts = pc.replace_substring_regex(texts, NON_LETTERS, " ")
    texts = pc.replace_substring_regex(texts, stopword_pattern(stopwords), "")
    texts = pc.replace_substring_regex(texts, " +", " ")
    return pc.utf8_trim(texts, " ")


def main() -> None:
    stopwords = load_stopwords()
    for split in ("train", "test"):
        table = pq.read_table(IN_DIR / f"{split}.parquet", columns=["id", "genre", "plot"])
        cleaned = table.set_column(2, "text", clean_texts(table["plot"].combine_chunks(), stopwords))
        with atomic_path(OUT_DIR / f"{split}.parquet") as tmp:
            pq.write_table(cleaned, tmp)
        empty = pc.sum(pc.equal(cleaned["text"], "")).as_py()
        print(f"{split}: {len(cleaned)} plots cleaned, {empty} left empty (all stopwords or symbols)")


if __name__ == "__main__":
    run(main)
