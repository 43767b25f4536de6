"""Text cleaning: plot text (with clean.with_title, title and plot) made ready for the vocabulary.

The rule, shared with the model's own PlotCleaner layer (modeling/layers.py) so
that a saved model cleans raw text exactly as training did:
  1. lowercase A-Z (ASCII only; both sides then agree on every input),
  2. every run of characters other than a-z (punctuation, digits, accented
     letters, whitespace) becomes one space,
  3. NLTK's English stopwords are dropped, spaces collapsed, ends trimmed.
Here it runs on whole columns at once: one byte map over Arrow's string buffer
for 1 and 2, then the words are split, filtered and joined by Arrow kernels.
The model does the same with RE2 regular expressions; tests check they agree.
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_genre.config import NLTK_DATA
from movie_genre.errors import PipelineError
from movie_genre.params import Param

PARAMS = {"with_title": Param(bool)}
SCHEMA = pa.schema({"id": pa.int64(), "genre": pa.string(), "text": pa.string()})

# Steps 1 and 2 as a byte map: A-Z to a-z, a-z kept, every other byte to a space.
# Each byte of a non-ASCII character is >= 0x80, so it becomes a space too, and
# the lengths, hence Arrow's offsets, stay as they are.
TO_LETTERS = bytes(b + 32 if 65 <= b <= 90 else b if 97 <= b <= 122 else 32 for b in range(256))


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


def clean_texts(texts, stopwords) -> pa.Array:
    """Clean an array (or list) of texts; see the module's docstring for the rule."""
    texts = pa.array(texts, type=pa.string())
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    validity, offsets, data = texts.buffers()
    if data is None:  # every text empty
        return texts
    letters = pa.Array.from_buffers(
        pa.string(), len(texts), [validity, offsets, pa.py_buffer(data.to_pybytes().translate(TO_LETTERS))],
        offset=texts.offset,
    )
    # Only a-z and spaces are left, so the ASCII splitter (twice as fast) is exact;
    # runs of spaces split once, and text that starts or ends with one gives "".
    words = pc.ascii_split_whitespace(letters)
    flat = words.flatten()
    keep = pc.and_(pc.invert(pc.is_in(flat, value_set=pa.array(sorted(set(stopwords))))), pc.not_equal(flat, ""))
    # Each text's first kept word: how many words were kept before its first word.
    kept_before = np.concatenate([[0], np.cumsum(keep.to_numpy(zero_copy_only=False), dtype=np.int32)])
    kept_offsets = kept_before[words.offsets.to_numpy() - words.offsets[0].as_py()]
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(kept_offsets), flat.filter(keep)), " ")


def model_text(title, plot, with_title: bool):
    """What the model reads, as its TitleAndPlot layer makes it: the plot, or the title, a space and the plot."""
    return pc.binary_join_element_wise(title, plot, " ") if with_title else plot


def clean_batch(batch: pa.RecordBatch, stopwords, with_title: bool) -> pa.RecordBatch:
    """A parsed batch (id, genre, title, plot) as a cleaned one (id, genre, text)."""
    texts = clean_texts(model_text(batch["title"], batch["plot"], with_title), stopwords)
    return pa.record_batch([batch["id"], batch["genre"], texts], schema=SCHEMA)
