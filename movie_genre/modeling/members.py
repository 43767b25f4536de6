"""Trainings side by side (the folds' members, and the final fit's once the folds allow):
as many spawned worker processes as there are cores (one thread each, the portable
arithmetic), each training one after another, with a progress line per epoch.

A member's weights are the same however many train beside it, so how many run at
once is not a param (a param would invalidate DVC's cache): MOVIE_GENRE_JOBS.
"""

import ctypes
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import time
import traceback
from typing import NamedTuple

import numpy as np

from movie_genre import runtime
from movie_genre.errors import PipelineError

JOBS_VARIABLE = "MOVIE_GENRE_JOBS"


def member_jobs(members: int) -> int:
    """How many members train at once: $MOVIE_GENRE_JOBS, or the usable cores; never more than members."""
    value = os.environ.get(JOBS_VARIABLE)
    if value is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    elif value.strip().isdigit() and int(value) >= 1:
        jobs = int(value)
    else:
        raise PipelineError(f"{JOBS_VARIABLE}={value!r}: give a whole number of members to train at once, 1 or more")
    return max(1, min(jobs, members))


_events = None  # in a member's process: where its epochs are reported


def _start_member_process(arithmetic: str, events, alone: bool) -> None:
    global _events
    if sys.platform.startswith("linux"):  # killed with the stage, not left training alone
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    runtime.configure(arithmetic)
    if not alone:  # a core each; alone, the two directions of the LSTM may run side by side
        import tensorflow as tf

        tf.config.threading.set_inter_op_parallelism_threads(1)
    _events = events


def report_epoch(member: int, epoch: int, logs: dict) -> None:
    """In a member's process: an epoch's logs to the parent, for its progress line."""
    _events.put(("epoch", member, (epoch, {key: float(value) for key, value in (logs or {}).items()})))


class Progress:
    """One line per epoch of any training: which, how far, how long so far and still to go."""

    def __init__(self, names: list[str], max_epochs: int, jobs: int):
        self.names, self.members, self.max_epochs = names, len(names), max_epochs
        self.start, self.epochs_done, self.finished = time.monotonic(), 0, {}
        print(f"trainings: {self.members}, {jobs} at once (one process and one thread each)", flush=True)

    def epoch(self, member: int, epoch: int, logs: dict) -> None:
        self.epochs_done += 1
        elapsed = time.monotonic() - self.start
        # Epochs still to come: finished members' mean for the others, or the most there can be
        expected = np.mean(list(self.finished.values())) if self.finished else self.max_epochs
        total = sum(self.finished.values()) + expected * (self.members - len(self.finished))
        left = max(total - self.epochs_done, 0) * elapsed / self.epochs_done
        figures = ", ".join(f"{key} {logs[key]:.4f}" for key in ("loss", "val_accuracy", "val_macro_f1") if key in logs)
        print(f"{self.names[member]}, epoch {epoch + 1}: {figures}; "
              f"{_minutes(elapsed)} elapsed, {'about' if self.finished else 'at most'} {_minutes(left)} left",
              flush=True)

    def done(self, member: int, history: dict) -> None:
        self.finished[member] = len(history["loss"])
        kept = f", kept epoch {history['kept_epoch']}" if history.get("stopped_early", True) else ""
        stopped = "stopped after " if kept else ""
        print(f"{self.names[member]}: {stopped}{self.finished[member]} epochs{kept}", flush=True)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s" if seconds >= 60 else f"{int(seconds)} s"


class _Worker(NamedTuple):
    process: "multiprocessing.process.BaseProcess"
    tasks: "multiprocessing.queues.Queue"  # (pickled function, index, arguments) of its next training; None: stop


def _worker_process(arithmetic: str, events, tasks, alone: bool) -> None:
    """A worker: the trainings `tasks` sends ((pickled training function, index, arguments);
    None: stop) one after another, each one's result (or its error) after its epochs on
    `events`. TensorFlow starts once per worker, first thing, after the arithmetic is set;
    the function is unpickled afresh for each training, so nothing one training changes
    reaches the next."""
    _start_member_process(arithmetic, events, alone)
    while (task := tasks.get()) is not None:
        pickled_member, member, arguments = task
        try:
            result = ("done", member, pickle.loads(pickled_member)(member, *arguments))
        except Exception as error:  # raised again in the parent, with this process's traceback
            if not isinstance(error, PipelineError):  # (a person's mistake says only what to fix)
                error.add_note(f"in training {member + 1}'s process:\n{traceback.format_exc().rstrip()}")
            try:
                pickle.dumps(error)
            except Exception:
                error = RuntimeError(f"{type(error).__name__}: {error}\n" + "\n".join(getattr(error, "__notes__", [])))
            result = ("failed", member, error)
        events.put(result)


class Workers:
    """member_jobs(trainings) spawned workers for run_members, killed when the `with` block
    ends. Each starts TensorFlow as it starts, seconds of a core: started ahead, before this
    process starts its own, the starts run side by side."""

    def __init__(self, trainings: int, arithmetic: str):
        self.jobs, self.arithmetic = member_jobs(trainings), arithmetic
        self._context = multiprocessing.get_context("spawn")
        self.events = self._context.Queue()
        self.started: list[_Worker] = []

    def __enter__(self) -> "Workers":
        try:
            for _ in range(self.jobs):
                tasks = self._context.Queue()
                process = self._context.Process(target=_worker_process, daemon=True,
                                                args=(self.arithmetic, self.events, tasks, self.jobs == 1))
                process.start()
                self.started.append(_Worker(process, tasks))  # started: __exit__ stops it
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exception) -> None:
        for worker in self.started:
            worker.process.kill()
            worker.process.join()


def run_members(train_member, names: list[str], max_epochs: int, arithmetic: str, log_epoch=None,
                start=None, when_idle=None, workers: Workers | None = None) -> list:
    """`train_member(i, *arguments)`'s results for the trainings i = 0, 1, ... named `names`
    (in the progress lines), on `workers` (by default, Workers of its own), started in
    order; it returns (..., history) with history's "loss" and "kept_epoch". `log_epoch(logs)`
    gets the first training's epochs. `start(i, finished)`, given the results so far by
    training, says training i's arguments, or None while it must wait for more of them (by
    default every training starts as soon as a worker is free, with none). `when_idle()`
    runs once, in this process: when a worker is first free with nothing it may start, or
    at the end.

    Workers are kept for the next training: a ProcessPoolExecutor's replacing of ended
    workers would import TensorFlow again (bench/RESULTS.md)."""
    if workers is None:
        with Workers(len(names), arithmetic) as own:
            return run_members(train_member, names, max_epochs, arithmetic, log_epoch, start, when_idle, own)
    if workers.arithmetic != arithmetic:
        raise ValueError(f"workers set up for {workers.arithmetic!r} arithmetic, not {arithmetic!r}")
    members = len(names)
    idle = workers.started[:min(len(workers.started), members)]
    jobs = len(idle)
    progress = Progress(names, max_epochs, jobs)
    pickled_member = pickle.dumps(train_member)
    busy = {}  # worker -> its training
    results, waiting = {}, list(range(members))
    while len(results) < members:
        blocked = False
        while waiting and idle:
            arguments = () if start is None else start(waiting[0], results)
            if arguments is None:
                if not busy:
                    raise RuntimeError(f"{names[waiting[0]]} waits for trainings that are all done")
                blocked = True
                break
            member = waiting.pop(0)
            worker = idle.pop()
            worker.tasks.put((pickled_member, member, arguments))
            busy[worker] = member
        if when_idle is not None and idle and (blocked or not waiting):
            when_idle()  # a core free: the trainings' epochs wait in the queue meanwhile
            when_idle = None
        try:
            event = workers.events.get(timeout=0.2)
        except queue.Empty:
            # A worker that ended with nothing left to say died (killed, out of memory, ...)
            dead = [worker for worker in workers.started if worker.process.exitcode is not None]
            if dead and workers.events.empty():
                name = names[busy[dead[0]]] if dead[0] in busy else "a training"
                raise PipelineError(f"{name}'s process ended (exit code {dead[0].process.exitcode}) "
                                    "before its training did") from None
            continue
        kind, member, content = event
        if kind == "failed":
            raise content
        if kind == "done":
            results[member] = content
            worker = next(worker for worker, training in busy.items() if training == member)
            del busy[worker]
            idle.append(worker)
            progress.done(member, content[-1])
            continue
        epoch, logs = content
        progress.epoch(member, epoch, logs)
        if member == 0 and log_epoch is not None:
            log_epoch(logs)
    if when_idle is not None:
        when_idle()
    return [results[member] for member in range(members)]
