import numpy as np

from movie_genre.modeling.batching import LengthBatches, batch_order


def test_every_row_once_per_epoch_in_length_windows():
    lengths = np.random.default_rng(0).integers(1, 300, size=1000)
    batches = batch_order(lengths, 16, np.random.default_rng(5))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))
    # inside a batch, lengths are close: each batch is a slice of a sorted window
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    shuffled = np.mean([np.ptp(lengths[b]) for b in np.array_split(np.arange(1000), 63)])
    assert spread < shuffled / 5
    assert [b.tolist() for b in batch_order(lengths, 16, np.random.default_rng(5))] == [b.tolist() for b in batches]


def test_evaluation_order_is_sorted_by_length():
    lengths = np.array([5, 1, 3, 2])
    assert [b.tolist() for b in batch_order(lengths, 3)] == [[1, 3, 2], [0]]


def test_batches_are_cut_to_the_longest_text_and_change_each_epoch():
    matrix = np.zeros((6, 10), dtype=np.int32)
    lengths = np.array([1, 2, 3, 4, 12, 6])
    for row, length in enumerate(lengths):
        matrix[row, : min(length, 10)] = 7
    labels = np.array([0, 1, 2, 0, 1, 2])
    batches = LengthBatches(matrix, lengths, labels, n_genres=3, batch_size=2, seed=3)
    widths = []
    for index, rows in enumerate(batches.batches):
        x, y = batches[index]
        assert x.shape[1] == min(10, lengths[rows].max())
        assert (x == matrix[rows, : x.shape[1]]).all()
        assert y.argmax(axis=1).tolist() == labels[rows].tolist() and (y.sum(axis=1) == 1).all()
        widths.append(x.shape[1])
    assert max(widths) == 10 and min(widths) < 10
    order = [b.tolist() for b in batches.batches]
    batches.on_epoch_end()
    assert [b.tolist() for b in batches.batches] != order


def test_members_at_once_follow_the_cores_or_the_environment_never_more_than_members(monkeypatch):
    import os

    import pytest

    from movie_genre.errors import PipelineError
    from movie_genre.modeling.members import JOBS_VARIABLE, member_jobs

    monkeypatch.delenv(JOBS_VARIABLE, raising=False)
    assert member_jobs(64) == min(64, len(os.sched_getaffinity(0)))
    assert member_jobs(1) == 1
    monkeypatch.setenv(JOBS_VARIABLE, "3")
    assert (member_jobs(5), member_jobs(2)) == (3, 2)
    for bad in ("0", "two", "-1", ""):
        monkeypatch.setenv(JOBS_VARIABLE, bad)
        with pytest.raises(PipelineError) as error:
            member_jobs(5)
        assert str(error.value) == (
            f"{JOBS_VARIABLE}={bad!r}: give a whole number of members to train at once, 1 or more"
        )
