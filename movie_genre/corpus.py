"""The outside corpus (data/external/movie_descriptions): read strictly, overlaps with the
pipeline's own files dropped, cleaned like the plots.

Overlap rule (the corpus README's): two texts are the same when their first 60
letters agree after lowercasing and keeping a-z only.  The corpus comes without
the IMDb sample's texts; a user's full IMDb files can still meet some, and a
text the model is tested on must never reach training through the corpus.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv

from movie_genre.errors import PipelineError
from movie_genre.text import clean_texts

COLUMNS = ("source", "title", "year", "genres", "text")
KEY_LETTERS = 60


def read_descriptions(path: Path) -> pa.Table:
    """The corpus's TSV as a table of strings; a malformed line stops with its number and the fix."""
    if not Path(path).is_file():
        raise PipelineError(f"{path}: file not found; run `dvc pull data/external/movie_descriptions.dvc`")
    bad = []

    def invalid(row):
        bad.append(row)
        return "skip"

    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(use_threads=False),
            parse_options=csv.ParseOptions(delimiter="\t", quote_char=False, invalid_row_handler=invalid),
            convert_options=csv.ConvertOptions(column_types={name: pa.string() for name in COLUMNS},
                                               strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise PipelineError(f"{path}: {error}; it must be UTF-8 TSV with a header {'/'.join(COLUMNS)}") from error
    if bad:
        row = bad[0]
        raise PipelineError(
            f"{path}:{row.number}: {row.actual_columns} tab-separated fields, expected {row.expected_columns}; "
            f"a text must hold no tab or line break ({len(bad)} such lines)"
        )
    if tuple(table.column_names) != COLUMNS:
        raise PipelineError(f"{path}:1: header is {'/'.join(table.column_names)}; expected {'/'.join(COLUMNS)}")
    return table


def overlap_keys(texts) -> pa.Array:
    """Each text's first 60 letters, lowercased, a-z only: the rule two texts are the same by."""
    letters = pc.replace_substring_regex(pc.ascii_lower(pa.array(texts, pa.string())), "[^a-z]+", "")
    return pc.utf8_slice_codeunits(letters, 0, KEY_LETTERS)


def without_overlaps(corpus: pa.Table, own_texts: dict) -> tuple[pa.Table, dict]:
    """The corpus rows whose text occurs in none of `own_texts` (name: texts); and per name,
    how many rows were dropped for it (a row that matches several counts for the first)."""
    keys = overlap_keys(corpus["text"])
    keep = pa.array([True] * len(corpus))
    dropped = {}
    for name, texts in own_texts.items():
        hit = pc.and_(keep, pc.is_in(keys, value_set=pc.unique(overlap_keys(texts))))
        dropped[name] = pc.sum(hit).as_py() or 0
        keep = pc.and_(keep, pc.invert(hit))
    return corpus.filter(keep), dropped


def cleaned(corpus: pa.Table, stopwords) -> tuple[pa.Table, int]:
    """(source, genres, text) with the text cleaned as the plots are, less rows left empty; and
    how many were."""
    texts = clean_texts(corpus["text"], stopwords)
    table = pa.table({"source": corpus["source"], "genres": corpus["genres"], "text": texts})
    kept = table.filter(pc.not_equal(texts, ""))
    return kept, len(table) - len(kept)
