"""The model's price: the train stage as one plain member, as params.yaml's default, and with
--members members side by side or one at a time.

    python -m bench.members [--members 5] [--repeat 1] [--json FILE]

Runs `python -m stages.train` on this checkout's cleaned and tokenized sample,
corpus vectors and pretrained encoder (run `dvc repro pretrain` first), in a
copy of the project, as: one member without the wide path
(train.wide: none); the default params; and with --members above 1, that
many members, as many at once as cores, then one at a time
(MOVIE_GENRE_JOBS=1). Prints each one's wall time, peak RSS and epochs, the
ratios, and whether the two ensembles' model files are the same bytes.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

from bench.run import timed

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/movie_genre_classification_model.keras"


def project_copy(work: Path, **train_params) -> Path:
    for name in ("stages", "movie_genre"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("data/cleaned", "data/tokenized", "data/corpus", "data/external/nltk_data"):
        shutil.copytree(ROOT / name, work / name)
    (work / "models").mkdir()
    shutil.copy2(ROOT / "models/pretrained_encoder.npz", work / "models")  # train.encoder: pretrained
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"].update(train_params)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return work


def train(work: Path, jobs: int | None) -> dict:
    env = {} if jobs is None else {"MOVIE_GENRE_JOBS": str(jobs)}
    wall, rss, _ = timed([sys.executable, "-m", "stages.train"], work, env)
    validation = json.loads((work / "metrics/training/validation.json").read_text())
    return {"wall_s": wall, "peak_rss_mb": rss, "epochs_run": validation["epochs_run"],
            "model_md5": hashlib.md5((work / MODEL).read_bytes()).hexdigest()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.members", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    at_once = min(cores, args.members)
    runs = {"one plain member": ({"members": 1, "wide": "none"}, None), "the default params": ({}, None)}
    if args.members > 1:
        runs[f"{args.members} members, {at_once} at once"] = ({"members": args.members}, None)
        runs[f"{args.members} members, one at a time"] = ({"members": args.members}, 1)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-members-") as tmp:
        works = {name: project_copy(Path(tmp) / name.replace(" ", "-").replace(",", ""), **train_params)
                 for name, (train_params, _) in runs.items()}
        measured = {name: [] for name in runs}
        for _ in range(args.repeat):  # in turn, so a drift of the machine's speed falls on every run alike
            for name, (_, jobs) in runs.items():
                measured[name].append(train(works[name], jobs))
        for name, runs_of_name in measured.items():
            results[name] = {**runs_of_name[-1], "wall_s": statistics.median(m["wall_s"] for m in runs_of_name)}
    one = results["one plain member"]
    print(f"train stage on the sample, {cores} cores, median of {args.repeat}")
    for name, r in results.items():
        print(f"  {name:<32} {r['wall_s']:7.1f} s  {r['epochs_run']:3d} epochs  peak RSS {r['peak_rss_mb']:,.0f} MB"
              f"  {r['wall_s'] / one['wall_s']:.2f}x one plain member")
    if args.members > 1:
        side, serial = list(results.values())[2:]
        print(f"  {args.members} members side by side: {serial['wall_s'] / side['wall_s']:.2f}x as fast as "
              "one at a time")
        same = "the same bytes" if side["model_md5"] == serial["model_md5"] else "DIFFERENT"
        print(f"  the two ensembles' model files: {same} ({side['model_md5'][:8]}...)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
