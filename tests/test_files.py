import time

import pytest

from movie_genre.files import map_in_threads


def test_map_in_threads_keeps_the_order_and_takes_items_only_as_needed():
    taken = []

    def items():
        for i in range(10):
            taken.append(i)
            yield i

    def slow_square(i):
        time.sleep(0.02 * (i % 3))  # later items often finish first
        return i * i

    results = map_in_threads(slow_square, items(), threads=2)
    assert next(results) == 0
    assert taken == [0, 1, 2]  # two at work and one queued: memory holds a few items, not all
    assert list(results) == [i * i for i in range(1, 10)]


def test_map_in_threads_raises_the_workers_error():
    def fail_on_three(i):
        if i == 3:
            raise ValueError("three")
        return i

    with pytest.raises(ValueError, match="three"):
        list(map_in_threads(fail_on_three, range(6), threads=2))
