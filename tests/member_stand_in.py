"""A member's process without the training, for tests/test_train.py: light to import, so
the spawned processes start in a blink."""

import os

from movie_genre.errors import PipelineError
from movie_genre.modeling.members import report_epoch


def stand_in_member(member, *arguments, fail=None, with_pid=False):
    """Two epochs reported, then the member's number and its arguments (and its process's id)
    as its weights (or the failure asked for)."""
    if fail == "dies":
        os._exit(3)
    if fail == "mistake":
        raise PipelineError("params.yaml: a person's mistake, said in one line")
    if fail == "bug":
        raise ValueError("a bug")
    for epoch in range(2):
        report_epoch(member, epoch, {"loss": 1.0 / (epoch + 1)})
    pid = (os.getpid(),) if with_pid else ()
    return member, *arguments, *pid, {"loss": [1.0, 0.5], "kept_epoch": 2}
