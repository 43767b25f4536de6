import numpy as np
import pytest

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


def test_members_report_in_order_and_a_failing_member_stops_the_run_with_its_own_error(monkeypatch, capsys):
    import functools
    import re

    from member_stand_in import stand_in_member

    from movie_genre.errors import PipelineError
    from movie_genre.modeling.members import JOBS_VARIABLE, run_members

    # (native arithmetic and one at a time: the stand-ins' processes never start TensorFlow)
    monkeypatch.setenv(JOBS_VARIABLE, "1")
    logged = []
    results = run_members(stand_in_member, ["fold 1 of 2", "fold 2 of 2"], 5, "native", log_epoch=logged.append)
    assert results == [(0, {"loss": [1.0, 0.5], "kept_epoch": 2}), (1, {"loss": [1.0, 0.5], "kept_epoch": 2})]
    assert logged == [{"loss": 1.0}, {"loss": 0.5}]  # the first member's epochs
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "trainings: 2, 1 at once (one process and one thread each)"
    epochs = [re.fullmatch(r"fold (\d) of 2, epoch (\d): loss ([\d.]+); \d+ s elapsed, (?:at most|about) \d+ s left",
                           line) for line in out[1:] if "epoch" in line and "stopped" not in line]
    assert sorted(m.groups() for m in epochs) == [("1", "1", "1.0000"), ("1", "2", "0.5000"),
                                                  ("2", "1", "1.0000"), ("2", "2", "0.5000")]
    assert sorted(line for line in out if "stopped" in line) == [
        "fold 1 of 2: stopped after 2 epochs, kept epoch 2", "fold 2 of 2: stopped after 2 epochs, kept epoch 2"]
    assert len(out) == 7

    with pytest.raises(PipelineError, match=r"^params\.yaml: a person's mistake, said in one line$") as mistake:
        run_members(functools.partial(stand_in_member, fail="mistake"), ["final fit"], 5, "native")
    assert not getattr(mistake.value, "__notes__", None)  # the one line, no traceback
    with pytest.raises(ValueError, match="a bug") as bug:
        run_members(functools.partial(stand_in_member, fail="bug"), ["final fit"], 5, "native")
    assert "in training 1's process:" in bug.value.__notes__[0] and "stand_in_member" in bug.value.__notes__[0]
    with pytest.raises(PipelineError, match=r"^final fit's process ended \(exit code 3\) before its training did$"):
        run_members(functools.partial(stand_in_member, fail="dies"), ["final fit"], 5, "native")


def test_a_training_waits_until_start_gives_its_arguments_from_the_finished_ones(monkeypatch, capsys):
    from member_stand_in import stand_in_member

    from movie_genre.modeling.members import JOBS_VARIABLE, run_members

    monkeypatch.setenv(JOBS_VARIABLE, "2")
    asked = []

    def start(member, finished):  # the last waits for both folds, then learns what they kept
        asked.append((member, sorted(finished)))
        if member < 2:
            return ()
        return (sorted(finished),) if len(finished) == 2 else None

    names = ["fold 1 of 2", "fold 2 of 2", "final fit"]
    results = run_members(stand_in_member, names, 5, "native", start=start, when_idle=lambda: asked.append("idle"))
    assert results[2][:2] == (2, [0, 1])  # started with both folds' results in hand
    assert results[:2] == [(0, {"loss": [1.0, 0.5], "kept_epoch": 2}), (1, {"loss": [1.0, 0.5], "kept_epoch": 2})]
    assert asked[:2] == [(0, []), (1, [])] and asked[-1] == (2, [0, 1])
    # A worker free while the final fit waits for the other fold: the idle time's work, once
    first_done = asked.index((2, [0])) if (2, [0]) in asked else asked.index((2, [1]))
    assert asked[first_done + 1] == "idle" and asked.count("idle") == 1

    monkeypatch.setenv(JOBS_VARIABLE, "1")  # never a worker free: the idle time's work comes at the end
    asked.clear()
    run_members(stand_in_member, names, 5, "native", start=start, when_idle=lambda: asked.append("idle"))
    assert asked[-1] == "idle" and asked.count("idle") == 1

    with pytest.raises(RuntimeError, match="^final fit waits for trainings that are all done$"):
        run_members(stand_in_member, ["fold 1 of 1", "final fit"], 5, "native",
                    start=lambda member, finished: () if member == 0 else None)


def test_workers_started_ahead_serve_the_trainings_and_stop_with_their_block(monkeypatch, capsys):
    import functools

    from member_stand_in import stand_in_member

    from movie_genre.modeling.members import JOBS_VARIABLE, Workers, run_members

    monkeypatch.setenv(JOBS_VARIABLE, "2")
    names = ["fold 1 of 2", "fold 2 of 2", "final fit"]
    with Workers(len(names), "native") as workers:
        pids = {worker.process.pid for worker in workers.started}
        assert len(pids) == 2 and all(worker.process.is_alive() for worker in workers.started)
        for _ in range(2):  # a second run on the same workers
            results = run_members(functools.partial(stand_in_member, with_pid=True), names, 5, "native",
                                  workers=workers)
            assert [result[0] for result in results] == [0, 1, 2]
            assert {result[1] for result in results} <= pids  # trained in the workers started ahead
        with pytest.raises(ValueError, match="^workers set up for 'native' arithmetic, not 'portable'$"):
            run_members(stand_in_member, names, 5, "portable", workers=workers)
    assert all(worker.process.exitcode is not None for worker in workers.started)


def test_the_final_fit_starts_early_only_within_a_few_epochs_of_its_count():
    from movie_genre.modeling.train import AHEAD_EPOCHS, final_epochs, refit_epochs

    params = {"epochs": 40, "lr_schedule": "constant"}
    # Four of five folds kept 15, 16, 16, 17: the median is 16 whatever the fifth keeps
    assert final_epochs(params, [15, 16, 17, 16], 1, 0.8) == (13, 13)
    # 14, 16 in the middle: the fifth decides between 11 and 13 epochs (1 of 5 unknown)
    assert final_epochs(params, [12, 14, 16, 20], 1, 0.8) == (11, 13)
    assert final_epochs(params, [10, 11, 17, 19], 1, 0.8) == (9, 14)  # 9 to 14: within AHEAD_EPOCHS
    assert final_epochs(params, [10, 11, 19], 2, 0.8) is None  # 8 to 15: too many thrown away
    assert final_epochs({**params, "lr_schedule": "cosine"}, [12, 14, 16, 20], 1, 0.8) is None  # steps set the rate
    assert final_epochs(params, [], 1, 0.9) is None  # folds: 1 before its fold ends: 1 to 36 epochs
    assert final_epochs(params, [7], 0, 0.9) == (6, 6) == (refit_epochs([7], 0.9),) * 2
    # Whatever the unfinished folds keep, the count falls within the bounds given
    rng = np.random.default_rng(0)
    for _ in range(200):
        kept = rng.integers(1, 41, size=5).tolist()
        known = int(rng.integers(0, 6))
        bounds = final_epochs(params, kept[:known], 5 - known, 0.8)
        if bounds is not None:
            assert bounds[0] <= refit_epochs(kept, 0.8) <= bounds[1] <= bounds[0] + AHEAD_EPOCHS


def test_a_final_fit_kept_at_an_earlier_epoch_is_the_fit_that_stopped_there():
    from conftest import SMALL_MODEL

    from movie_genre.modeling.build import saved_weights
    from movie_genre.modeling.train import fit_classifier

    params = {**SMALL_MODEL, "batch_size": 2, "class_weight_power": 0.5, "optimizer": "fused_adam",
              "learning_rate": 0.05, "lr_schedule": "constant", "label_smoothing": 0.0, "dropout": 0.3}
    x = np.array([[2, 3], [3, 2], [2, 5], [3, 5], [4, 2], [4, 5]], np.int32)
    rows = (x, np.full(6, 2), np.array([0, 1, 0, 1, 0, 1]))
    longer, history = fit_classifier(params, 3, "classifier", None, 6, 2, rows, epochs=4, keep_from=2)
    assert sorted(history["weights"]) == [2, 3, 4]
    for epochs in (2, 3):
        stopped, _ = fit_classifier(params, 3, "classifier", None, 6, 2, rows, epochs=epochs)
        for kept, weight in zip(history["weights"][epochs], saved_weights(stopped), strict=True):
            np.testing.assert_array_equal(kept, weight)
    assert any(not np.array_equal(a, b) for a, b in zip(history["weights"][2], saved_weights(longer)))


def test_a_member_process_that_cannot_start_stops_the_run_with_its_own_error(monkeypatch):
    import multiprocessing.context

    from movie_genre.modeling.members import run_members

    def cannot_start(process):
        raise OSError("no more processes")

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", cannot_start)
    with pytest.raises(OSError, match="no more processes"):
        run_members(print, ["fold 1 of 2", "fold 2 of 2"], 5, "native")


def test_the_final_fit_repeats_the_folds_steps_and_their_weight_per_row():
    from movie_genre.modeling.train import Rows, final_wide_params, refit_epochs
    from movie_genre.vocabulary import NEVER_HELD

    five = Rows(np.zeros((10, 2)), np.ones(10), np.zeros(10, int), np.repeat(np.arange(5), 2))
    assert five.fit_share == pytest.approx(0.8)
    held_once = Rows(np.zeros((10, 2)), np.ones(10), np.zeros(10, int), np.array([0] + [NEVER_HELD] * 9))
    assert held_once.fit_share == pytest.approx(0.9)  # folds: 1, one row held
    # The folds' median kept epoch, 16, on 80% of the rows: 12.8 epochs' steps on all of them
    assert refit_epochs([15, 16, 17, 16, 17], 0.8) == 13
    assert refit_epochs([1, 1, 2], 0.5) == 1  # never none
    params = {"wide": "linear_svc", "wide_C": 0.3, "wide_l2": 0.001}
    assert final_wide_params(params, 0.8) == {**params, "wide_C": 0.3 * 0.8}
    assert params["wide_C"] == 0.3  # the stage's params untouched
    softmax = {**params, "wide": "softmax"}
    assert final_wide_params(softmax, 0.8) == softmax  # a mean loss weighs a row the same on any count


TRAIN_ON_TOY_ROWS = r"""
import json, sys
import numpy as np, yaml
from movie_genre import runtime
runtime.configure("portable")
from movie_genre.modeling.train import Rows, train
from movie_genre.modeling.saving import predict_texts
from movie_genre.vocabulary import assign_folds, build_vocabulary, padded, to_sequences

genres = ["drama", "horror", "romance"]
rng = np.random.default_rng(0)
labels = rng.integers(0, 3, size=120)
noise = np.array([f"w{i}" for i in range(30)])
texts = [" ".join([*rng.choice(noise, size=6), f"{genres[y]}word"]) for y in labels]
texts[7] += " onlyhere"  # the rarest word: the largest id, in one row and so in one fold's held rows
vocabulary = build_vocabulary(texts, 100)
sequences, lengths = to_sequences(texts, vocabulary, 10)
rows = Rows(padded(sequences, 10), lengths, labels, assign_folds(labels, texts, 2, 0.1, 0), texts)
params = yaml.safe_load(open("params.yaml"))["train"]
params.update(json.loads(sys.argv[1]))
model, validation = train(params, vocabulary, genres, rows, ["the"])
p = predict_texts(model, texts)
blend = model.get_layer("blend")
embedding = model.get_layer("classifier").get_layer("embedding")
print(json.dumps({"validation": validation, "accuracy": float((p.argmax(1) == labels).mean()),
                  "scales": [blend.member_scale, blend.wide_scale], "learned_rows": embedding.learned_rows,
                  "largest_id": int(rows.ids.max()), "fold_of_7": int(rows.folds[7])}))
"""


@pytest.mark.slow
def test_train_chooses_out_of_fold_and_fits_the_saved_model_on_every_row():
    import json
    import re
    import subprocess
    import sys

    from conftest import ROOT

    small = {"embedding": "random", "embedding_dim": 8, "lstm_units": 8, "bidirectional": False, "pooling": "max",
             "dropout": 0.0, "epochs": 4, "patience": 2, "members": 1, "wide": "linear_svc", "wide_max_ngrams": 500,
             "learning_rate": 0.01}
    result = subprocess.run([sys.executable, "-c", TRAIN_ON_TOY_ROWS, json.dumps(small)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    validation = out["validation"]
    assert (validation["rows"], validation["folds"]) == (120, 2)  # every row held out once
    assert out["scales"] == [validation["member_scale"], validation["wide_scale"]]  # the model pools at the fit
    assert validation["accuracy"] > 0.9 and out["accuracy"] > 0.9  # a word tells the genre: the wide path learns it
    assert 1 <= validation["final_epochs"] <= 4 and validation["epochs_run"] > validation["final_epochs"]
    # The saved member trained on every row: even the word only a held row holds has a learned embedding row
    assert out["learned_rows"] == out["largest_id"] + 1
    # The two folds and the final fit in one run; a fixed count, no kept epoch
    assert re.search(r"^trainings: 3, [12] at once", result.stdout, re.M) and "final fit, epoch 1:" in result.stdout
    ran = int(re.search(r"^final fit: (\d) epochs$", result.stdout, re.M).group(1))
    assert validation["final_epochs"] <= ran <= validation["final_epochs"] + 1  # 1 ahead at most on 2 folds
    assert f"the final fit: {validation['final_epochs']} epochs on all 120 rows" in result.stdout
