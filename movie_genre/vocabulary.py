"""Vocabulary from the training text, word-id sequences, and the folds.

Ids follow Keras' TextVectorization so the saved model maps text the same way:
0 is padding, 1 an out-of-vocabulary word, 2.. the training words by falling
count (ties alphabetical), then, with `glove_words`, GloVe's most frequent words
that the training text lacks.  No TensorFlow here: NumPy and Arrow do it in a
fraction of the time, and training hands the same vocabulary to
TextVectorization.
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_genre.errors import PipelineError
from movie_genre.files import map_in_threads, row_groups, write_parquet_batches
from movie_genre.params import Param

PARAMS = {
    "vocab_size": Param(int, low=3),
    "glove_words": Param(int, low=0),
    "max_len": Param(int, low=1),
    "folds": Param(int, low=1),  # 1: one held-out split of val_split
    "val_split": Param(float, low=0, high=1, exclusive=True),
    "seed": Param(int, low=0),
}
PAD, OOV = 0, 1
RESERVED = 2  # ids taken by padding and out-of-vocabulary


def split_words(texts) -> pa.ListArray:
    """Each cleaned text as a list of words; an empty text has none (Arrow alone gives [""])."""
    texts = pa.array(texts, type=pa.string())
    # Cleaned text is a-z and spaces, so the ASCII splitter (twice as fast) is exact.
    words = pc.ascii_split_whitespace(pc.if_else(pc.equal(texts, ""), None, texts))
    return pc.fill_null(words, pa.scalar([], type=words.type))


def build_vocabulary(texts, vocab_size: int) -> list[str]:
    """The `vocab_size - 2` most frequent words, most frequent first, ties alphabetical.

    Words are counted a row group at a time (in threads) and the counts added up,
    so memory holds one group's words, not the whole text's.
    """
    texts = pa.array(texts, type=pa.string())
    groups = map_in_threads(lambda group: pc.value_counts(split_words(group).flatten()), row_groups(texts))
    counted = pa.struct({"values": pa.string(), "counts": pa.int64()})
    counts = pa.Table.from_struct_array(pa.chunked_array(list(groups), counted))
    counts = counts.group_by("values").aggregate([("counts", "sum")])
    values = counts["values"].to_numpy()
    order = np.lexsort((values, -counts["counts_sum"].to_numpy()))
    return values[order[: vocab_size - RESERVED]].tolist()


def to_sequences(texts, vocabulary, max_len: int) -> tuple[pa.ListArray, np.ndarray]:
    """Each text as a list of word ids, cut after max_len words, and its length in words before cutting.

    Stored unpadded: plots are ~58 words, so a padded matrix would be mostly zeros
    to write and read again; read_sequences pads.  `vocabulary` is a list of words
    or, for many calls, an Arrow string array (then used as it is).
    """
    split = split_words(texts)
    lengths = pc.list_value_length(split).to_numpy(zero_copy_only=False).astype(np.int64)
    kept = pc.list_slice(split, 0, max_len)
    index = pc.index_in(kept.flatten(), value_set=pa.array(vocabulary, type=pa.string()))
    ids = pc.cast(pc.fill_null(pc.add(index, RESERVED), OOV), pa.int32())
    return pa.ListArray.from_arrays(kept.offsets, ids), lengths


def padded(sequences: pa.ListArray, width: int) -> np.ndarray:
    """A (rows, width) int32 matrix of the sequences, padded after with 0."""
    lengths = pc.list_value_length(sequences).to_numpy(zero_copy_only=False)
    matrix = np.zeros((len(sequences), width), dtype=np.int32)
    # A boolean mask fills row by row, left to right: the words' order.
    matrix[np.arange(width) < lengths[:, None]] = sequences.flatten().to_numpy()
    return matrix


def stratified_split(labels: np.ndarray, val_split: float, seed: int, genres=None):
    """Indices (fit, validation), each genre split in the same proportion; same seed, same split.

    Each genre gives round-about `val_split` of its rows (largest remainders make
    up the total) and always keeps at least one row for fitting.
    """
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    if counts[present].min() < 2:
        genre = present[counts[present].argmin()]
        name = genres[genre] if genres else f"#{genre}"
        raise PipelineError(
            f"genre {name!r} has a single training row; a stratified split needs at least 2 "
            "(add rows of it or remove it)"
        )
    n_val = int(round(len(labels) * val_split))
    if n_val < 1:
        raise PipelineError(f"tokenize.val_split={val_split} leaves no validation row; raise it")
    exact = counts[present] * n_val / len(labels)
    quota = np.floor(exact).astype(np.int64)
    short = n_val - quota.sum()
    quota[np.argsort(quota - exact, kind="stable")[:short]] += 1
    quota = np.minimum(quota, counts[present] - 1)
    rng = np.random.default_rng(seed)
    val = np.concatenate([
        rng.permutation(np.flatnonzero(labels == genre))[:take] for genre, take in zip(present, quota)
    ])
    fit = np.setdiff1d(np.arange(len(labels)), val)
    return fit, np.sort(val)


NEVER_HELD = -1  # the fold of a row that every fit trains on (folds: 1's fit rows)


def assign_folds(labels: np.ndarray, texts, folds: int, val_split: float, seed: int, genres=None) -> np.ndarray:
    """Each row's fold, 0 .. folds - 1: the fit that holds it out. Same seed, same folds.

    Rows with the same text (a plot filed twice, or a scaled-up benchmark's copies)
    count as one and share a fold, or the held fold would be read in training.
    folds >= 2: the texts of each genre are dealt round the folds in a seeded order,
    the deal going on from one genre to the next, so each fold holds every genre's
    share and the folds differ in size by one text at most. A genre with fewer texts
    than folds is held out by as many folds as it has texts; every fit still trains
    on the rest of them.
    folds == 1: one stratified held-out split of val_split of the texts
    (stratified_split); the other rows are NEVER_HELD, in every fit.
    """
    texts = pa.array(texts, type=pa.string())
    distinct = pc.unique(texts)
    group = pc.index_in(texts, value_set=distinct).to_numpy()
    # A text's genre is that of its first row (copies of a text carry one genre)
    first_row = np.full(len(distinct), len(labels))
    np.minimum.at(first_row, group, np.arange(len(labels)))
    group_labels = labels[first_row]
    if folds == 1:
        group_fold = np.full(len(distinct), NEVER_HELD, dtype=np.int32)
        group_fold[stratified_split(group_labels, val_split, seed, genres)[1]] = 0
        return group_fold[group]
    if len(distinct) < folds:
        raise PipelineError(f"tokenize.folds={folds}, but the training file holds {len(distinct)} distinct texts; "
                            "lower tokenize.folds")
    rng = np.random.default_rng(seed)
    group_fold = np.empty(len(distinct), dtype=np.int32)
    dealt = 0
    for genre in np.unique(group_labels):
        members = rng.permutation(np.flatnonzero(group_labels == genre))
        group_fold[members] = (dealt + np.arange(len(members))) % folds
        dealt += len(members)
    return group_fold[group]


def sequences_schema(max_len: int, with_folds: bool = False) -> pa.Schema:
    fields = {"id": pa.int64(), "label": pa.int32(), "length": pa.int64(), "sequence": pa.list_(pa.int32())}
    if with_folds:
        fields["fold"] = pa.int32()
    return pa.schema(fields, metadata={"max_len": str(max_len)})


def write_sequences(path, ids, labels, texts, vocabulary, max_len: int, folds=None) -> np.ndarray:
    """Write the texts' sequences with their ids, labels and (training rows) folds, a row
    group at a time (in threads); return every text's length in words."""
    schema = sequences_schema(max_len, folds is not None)
    vocabulary = pa.array(vocabulary, pa.string())  # once, not once per row group
    columns = {"id": ids, "label": labels.astype(np.int32), "text": texts}
    if folds is not None:
        columns["fold"] = np.asarray(folds, np.int32)
    rows = pa.table(columns)
    lengths = []

    def group(part):
        sequences, group_lengths = to_sequences(part["text"].combine_chunks(), vocabulary, max_len)
        columns = [part["id"].combine_chunks(), part["label"].combine_chunks(), group_lengths, sequences]
        if folds is not None:
            columns.append(part["fold"].combine_chunks())
        return pa.record_batch(columns, schema=schema)

    def batches():
        for batch in map_in_threads(group, row_groups(rows)):
            lengths.append(batch["length"].to_numpy())
            yield batch

    write_parquet_batches(batches(), schema, path)
    return np.concatenate(lengths)


def read_sequences(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix padded to max_len, lengths, labels) from a file that write_sequences wrote."""
    table = pq.read_table(path)
    max_len = int(table.schema.metadata[b"max_len"])
    matrix = padded(table["sequence"].combine_chunks(), max_len)
    return matrix, table["length"].to_numpy(), table["label"].to_numpy()


def read_folds(path) -> np.ndarray:
    """Each row's fold, from the training file that tokenize wrote."""
    if "fold" not in pq.read_schema(path).names:
        raise PipelineError(f"{path}: no fold column (written before tokenize.folds); run `dvc repro tokenize`")
    return pq.read_table(path, columns=["fold"])["fold"].to_numpy()


def read_texts(cleaned_path, *sequences_paths) -> list[list[str]]:
    """The cleaned texts of each sequences file's rows, in its order (the rows are found by id);
    the cleaned file is read once for all of them."""
    for path in (cleaned_path, *sequences_paths):
        if not Path(path).is_file():
            raise PipelineError(f"{path}: no such file; run `dvc repro` (or `dvc pull` its stage's outputs)")
    cleaned = pq.read_table(cleaned_path, columns=["id", "text"]).to_pydict()
    text = dict(zip(cleaned["id"], cleaned["text"]))
    splits = []
    for path in sequences_paths:
        ids = pq.read_table(path, columns=["id"])["id"].to_pylist()
        missing = next((i for i in ids if i not in text), None)
        if missing is not None:
            raise PipelineError(f"{path}: id {missing} is not in {cleaned_path}; run `dvc repro tokenize`")
        splits.append([text[i] for i in ids])
    return splits


def embedding_matrix(vocabulary: list[str], reserved: int, words, table: np.ndarray, seed: int):
    """Embedding matrix for `reserved` special ids followed by `vocabulary`, rows taken from
    `table` (one per word of `words`); and how many vocabulary words it had.

    Id 0 (padding) is zeros; the other special ids and the words `words` lacks
    start random, at the table's scale.
    """
    found_at = pc.fill_null(pc.index_in(pa.array(vocabulary, pa.string()), value_set=words), -1).to_numpy()
    found = found_at >= 0
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0, float(table[found_at[found]].std()), (len(vocabulary) + reserved, table.shape[1]))
    matrix[0] = 0
    matrix[reserved:][found] = table[found_at[found]]
    return matrix.astype(np.float32), int(found.sum())
