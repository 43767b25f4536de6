"""One epoch of the real model on two workers under MultiWorkerMirroredStrategy, on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

import pytest

from movie_genre.modeling.distributed import worker_groups

pytestmark = pytest.mark.slow
TIMEOUT = 240  # seconds for a run: a worker waiting for a peer that is gone fails, not hangs


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def launch(repo, *args, tf_config=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, "-m", "movie_genre.modeling.distributed", *args], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def report(process) -> dict:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def two_workers(repo, *args) -> list[dict]:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes = [launch(repo, *args, tf_config={"cluster": cluster, "task": {"type": "worker", "index": i}})
                 for i in range(2)]
    try:
        return [report(p) for p in processes]
    finally:
        for p in processes:
            p.kill()


def own_halves(reports: list[dict], n_rows: int) -> bool:
    """Each worker fed rows no other fed, and together nearly all (a short last group left out)."""
    fed = [set(r["rows"]) for r in reports]
    disjoint = all(len(r["rows"]) == len(s) for r, s in zip(reports, fed)) and not set.intersection(*fed)
    return disjoint and len(set.union(*fed)) >= n_rows - 2 * 64


def fit_rows(repo) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(repo / "data/tokenized/train.parquet").num_rows


def test_two_workers_each_train_on_their_own_half_and_end_with_the_same_weights(prepared):
    repo, n_rows = prepared, fit_rows(prepared)  # conftest's copy, run up to what train reads (it writes nothing)
    workers = two_workers(repo)
    alone = report(launch(repo, "--merge", "2"))
    assert [w["worker"] for w in workers] == [0, 1] and all(w["workers"] == 2 for w in workers)
    assert own_halves(workers, n_rows)
    assert workers[0]["steps"] == workers[1]["steps"] == alone["steps"] > 0
    assert sorted(alone["rows"]) == sorted(workers[0]["rows"] + workers[1]["rows"])  # the same rows, in pairs
    assert workers[0]["weights"] == workers[1]["weights"]  # the gradients were averaged, every step
    assert workers[0]["loss"] == workers[1]["loss"]
    # One process on each pair's rows as one batch: the same steps, but its own dropout masks and sums
    assert workers[0]["loss"] == pytest.approx(alone["loss"], rel=0.02)
    assert workers[0]["weights"] != alone["weights"]


def test_the_halves_check_fails_when_every_worker_trains_on_everything(prepared):
    repo, n_rows = prepared, fit_rows(prepared)
    workers = two_workers(repo, "--every-batch")
    assert workers[0]["weights"] == workers[1]["weights"]
    assert not own_halves(workers, n_rows)


def test_worker_groups_leave_out_only_a_short_last_group():
    assert worker_groups(5, 2) == [[0, 1], [2, 3]]
    assert worker_groups(4, 2) == [[0, 1], [2, 3]]
    assert worker_groups(3, 1) == [[0], [1], [2]]
    assert worker_groups(1, 2) == []
