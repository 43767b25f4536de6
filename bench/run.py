"""Benchmark the pipeline at scale on synthetic data resampled from the genuine sample.

    python -m bench.run --rows 108414            # the full public files' size
    python -m bench.run --rows 1000000 --no-training --repeat 1
    python -m bench.run --rows 108414 --full     # also the whole default pipeline through DVC

Rows are drawn with replacement from the genuine files (new ids, same ` ::: `
format), so every figure here is about time and memory only, never quality.
Each stage runs through its real entry point in a temporary folder; "work" is its
wall time less that of a process that only imports what the stage imported (as
`python -X importtime` reports it, main()'s lazy imports too) and exits.  The
naive reference (bench/naive.py) runs in the same invocation and the table gives
our/naive ratios, since absolute times on shared machines move from run to run.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from bench.epoch import WARM_UP_STEPS

ROOT = Path(__file__).resolve().parents[1]
GENUINE = ROOT / "data" / "raw"
FULL_TRAIN_SHARE = 54214 / 108414  # the public files' split
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
       "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def scaled_dataset(rows: int, raw: Path, seed: int) -> dict:
    """Write train_data.txt, test_data_solution.txt and test_data.txt with `rows` records in all.

    Its rows are copies of genuine rows; tokenize keeps every copy of a text in one
    fold (vocabulary.assign_folds), so no held fold is read in training.
    """
    from movie_genre.records import SEPARATOR, parse_file
    rng = np.random.default_rng(seed)
    n_train = round(rows * FULL_TRAIN_SHARE)
    counts = {}
    raw.mkdir(parents=True, exist_ok=True)
    for source, n, targets in (
        ("train_data.txt", n_train, {"train_data.txt": True}),
        ("test_data_solution.txt", rows - n_train, {"test_data_solution.txt": True, "test_data.txt": False}),
    ):
        columns = parse_file(GENUINE / source, labelled=True)[0].to_pydict()
        picks = rng.integers(0, len(columns["id"]), n)
        for target, labelled in targets.items():
            with open(raw / target, "w", encoding="utf-8") as f:
                for new_id, i in enumerate(picks, start=1):
                    fields = [str(new_id), columns["title"][i]]
                    fields += [columns["genre"][i]] if labelled else []
                    f.write(SEPARATOR.join(fields + [columns["plot"][i]]) + "\n")
        counts[source] = n
    return counts


PREPARE = ("parse", "clean", "tokenize")
CORPUS = ("corpus", "word_vectors")  # the outside corpus: its own size, whatever --rows is
EXTERNAL = ("nltk_data", "movie_descriptions")


def timed(command, cwd, env=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and output of a command and the children it waited for."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env={**ENV, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        log.seek(0)
        output = log.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{output[-3000:]}")
    return wall, usage.ru_maxrss / 1024, output


def imported_modules(output: str) -> list[str]:
    """The modules a process imported at top level, from its `python -X importtime` report."""
    names = []
    for line in output.splitlines():
        if line.startswith("import time:"):
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit() and not name.startswith("  "):
                names.append(name.strip())
    return names


def run_stage(command: list, cwd) -> tuple[float, float, float]:
    """Wall seconds, work seconds and peak RSS (MB) of a stage.

    Work is the wall time less that of a process that only imports what the stage
    imported (main()'s lazy imports included) and exits: the interpreter's and the
    libraries' start-up and tear-down, measured in the same folder (median of 3).
    """
    wall, rss, output = timed([sys.executable, "-X", "importtime"] + command, cwd)
    imports = (
        "import importlib\n"
        f"for name in {imported_modules(output)!r}:\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except Exception:\n        pass\n"
    )
    # -X importtime here too: its own cost, hundreds of lines on stderr, then cancels out.
    startup = float(np.median([timed([sys.executable, "-X", "importtime", "-c", imports], cwd)[0] for _ in range(3)]))
    return wall, wall - startup, rss


def naive_prepare(raw: Path, vocab_size: int) -> float:
    """Seconds the naive reference takes to parse, clean and tokenize (imports excluded)."""
    return float(timed([sys.executable, "-m", "bench.naive", str(raw), str(vocab_size)], ROOT)[2].split()[-1])


# The epoch comparisons: name -> (changes to the default train params, every batch padded to max_len,
# environment)
EPOCH_SIDES = {
    "ours": ({}, False, {}),
    "fixed_len": ({}, True, {}),
    "native": ({"arithmetic": "native"}, False, {}),
    # The portable arithmetic before it pinned threads, caches and oneDNN's ops: the AVX2 cap alone
    "cap_only": ({"arithmetic": "native"}, False, {"ONEDNN_MAX_CPU_ISA": "AVX2"}),
    "keras_adam": ({"optimizer": "adam"}, False, {}),
}


def epoch_run(work: Path, params: dict, fixed: bool, epochs: int = 1, validate: bool = False, env=None) -> dict:
    """bench/epoch.py in its own process (TensorFlow fixes its arithmetic per process)."""
    command = [sys.executable, "-m", "bench.epoch", str(work), json.dumps(params), "--epochs", str(epochs)]
    command += ["--fixed"] * fixed + ["--validate"] * validate
    return json.loads(timed(command, ROOT, env)[2].strip().splitlines()[-1])


def dvc_repo(work: Path, raw: Path, folds: int | None = None) -> Path:
    """A DVC project (no git) with the pipeline and the scaled inputs (and tokenize.folds `folds`)."""
    repo = work / "dvc"
    repo.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    if folds is not None:
        params = yaml.safe_load((repo / "params.yaml").read_text())
        params["tokenize"]["folds"] = folds
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for package in ("stages", "movie_genre"):
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(raw, repo / "data/raw")
    for name in EXTERNAL:
        shutil.copytree(ROOT / "data/external" / name, repo / "data/external" / name)
    timed([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], repo)
    return repo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=108414, help="records in all (train + test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of parse, clean, tokenize and the naive reference (the median counts: one run "
                        "moves by a third), and of the epoch comparison (each side's fastest run counts)")
    parser.add_argument("--no-training", action="store_true",
                        help="skip all that fits a model: pretrain, baseline, train, evaluate, predict and the epoch "
                        "comparison")
    parser.add_argument("--quality-epochs", type=int, default=5, help="epochs for the genuine-data accuracy comparison")
    parser.add_argument("--quality-seeds", type=int, default=5, help="seeds averaged in that comparison")
    parser.add_argument("--full", action="store_true", help="also `dvc repro` the whole default pipeline")
    parser.add_argument("--folds", type=int, help="tokenize.folds for the whole pipeline (default: params.yaml's)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    if not args.no_training and not (ROOT / "data/tokenized/train.parquet").is_file():
        parser.error("the accuracy comparison trains on the genuine sample's split: run `dvc repro tokenize` first")

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    results = {"rows": args.rows, "machine": machine, "stages": {}}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp) / "work"
        raw = work / "data" / "raw"
        results["files"] = scaled_dataset(args.rows, raw, args.seed)
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        params["train"]["epochs"] = 1
        (work / "params.yaml").write_text(yaml.safe_dump(params))
        (work / "data/external").mkdir(parents=True)
        for name in EXTERNAL:
            (work / "data/external" / name).symlink_to(ROOT / "data/external" / name)
        n_train, n_test = results["files"]["train_data.txt"], results["files"]["test_data_solution.txt"]

        stages = [*PREPARE, *CORPUS]
        if not args.no_training:
            stages += ["pretrain", "baseline", "train", "evaluate", "predict"]
        for stage in stages:
            command = ["-m", f"stages.{stage}"]
            if stage == "predict":
                command += ["--file", "data/raw/test_data.txt", "--out", str(work / "predictions.txt"),
                            "--top-csv", str(work / "top.csv")]
            runs = args.repeat if stage in PREPARE else 1
            wall, work_s, rss = sorted((run_stage(command, work) for _ in range(runs)), key=lambda r: r[1])[runs // 2]
            rows = n_train if stage == "train" else n_test if stage in ("evaluate", "predict") else args.rows
            if stage in CORPUS:
                rows = json.loads((work / "metrics/corpus.json").read_text())["rows_read"]
            elif stage == "pretrain":
                # under the default train.encoder the stage writes an empty encoder: no texts
                rows = json.loads((work / "metrics/pretrain.json").read_text()).get("texts_used", 0)
            results["stages"][stage] = {"wall_s": wall, "work_s": work_s, "rows": rows, "peak_rss_mb": rss}

        prepared = sum(results["stages"][s]["work_s"] for s in PREPARE)
        naive = float(np.median([naive_prepare(raw, params["tokenize"]["vocab_size"]) for _ in range(args.repeat)]))
        results["prepare"] = {"ours_work_s": prepared, "naive_s": naive, "speed-up": naive / prepared}

        repo = dvc_repo(work, raw, args.folds)
        wall, rss, _ = timed([sys.executable, "-m", "dvc", "repro", "-q", "tokenize"], repo)
        results["dvc_repro_to_tokenize"] = {"wall_s": wall, "peak_rss_mb": rss}
        if args.full:
            wall, rss, _ = timed([sys.executable, "-m", "dvc", "repro", "-q"], repo)
            metrics = json.loads((repo / "metrics/metrics.json").read_text())
            results["dvc_repro_full"] = {"wall_s": wall, "peak_rss_mb": rss, "epochs_run": metrics["val"]["epochs_run"],
                                         "best_epoch": metrics["val"]["best_epoch"], "folds": metrics["val"]["folds"]}
        wall, _, _ = timed([sys.executable, "-m", "dvc", "repro", "-q"] + ([] if args.full else ["tokenize"]), repo)
        results["dvc_repro_noop"] = {"wall_s": wall, "of": "whole pipeline" if args.full else "parse..tokenize"}

        if not args.no_training:
            # Alternated and repeated; the fastest run of each side counts. A neighbour's
            # load on a shared machine only adds time, and it slows whole epochs of
            # this length (by about 40%, seen here), so a median of 3 can still be one.
            runs = {name: [] for name in EPOCH_SIDES}
            for _ in range(args.repeat):
                for name, (changes, fixed, env) in EPOCH_SIDES.items():
                    runs[name].append(epoch_run(work, {**params["train"], **changes}, fixed, env=env))
            fastest = {name: min(side, key=lambda run: run["seconds"]) for name, side in runs.items()}
            results["epoch"] = {"rows": fastest["ours"]["rows"], "warm_up_s": fastest["ours"]["warm_up_s"],
                                **{f"{name}_s": run["seconds"] for name, run in fastest.items()},
                                "runs": {name: [run["seconds"] for run in side] for name, side in runs.items()}}
            # One seed's validation accuracy on 211 rows moves by several points, so average several.
            accuracy = {"ours": [], "fixed_len": []}
            for seed in range(args.quality_seeds):
                quality = {**params["train"], "epochs": args.quality_epochs, "seed": seed}
                for name, fixed in (("ours", False), ("fixed_len", True)):
                    run = epoch_run(ROOT, quality, fixed, args.quality_epochs, validate=True)
                    accuracy[name].append(run["accuracy"])
            results["genuine_val_accuracy"] = {
                "epochs": args.quality_epochs, "train_rows": run["rows"], "seeds": args.quality_seeds,
                **{name: float(np.mean(v)) for name, v in accuracy.items()},
            }
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def report(r: dict) -> None:
    files = r["files"]
    print(f"rows: {r['rows']:,} ({files['train_data.txt']:,} train + {files['test_data_solution.txt']:,} test); "
          f"{r['machine']}")
    print(f"{'stage':<10} {'wall s':>8} {'work s':>8} {'rows':>10} {'rows/s':>10} {'peak RSS MB':>12}")
    for name, s in r["stages"].items():
        print(f"{name:<10} {s['wall_s']:8.2f} {s['work_s']:8.2f} {s['rows']:10,} {s['rows'] / s['work_s']:10,.0f} "
              f"{s['peak_rss_mb']:12,.0f}")
    p = r["prepare"]
    print(f"parse+clean+tokenize work: ours {p['ours_work_s']:.2f} s, naive {p['naive_s']:.2f} s "
          f"-> {p['speed-up']:.2f}x")
    d = r["dvc_repro_to_tokenize"]
    print(f"dvc repro parse..tokenize (start-ups included): {d['wall_s']:.2f} s, peak RSS {d['peak_rss_mb']:,.0f} MB")
    if "dvc_repro_full" in r:
        d = r["dvc_repro_full"]
        print(f"dvc repro, whole pipeline, tokenize.folds {d['folds']}: {d['wall_s']:.1f} s, peak RSS "
              f"{d['peak_rss_mb']:,.0f} MB, {d['epochs_run']} epochs run (median kept epoch {d['best_epoch']})")
    print(f"dvc repro with everything cached ({r['dvc_repro_noop']['of']}): {r['dvc_repro_noop']['wall_s']:.2f} s")
    if "epoch" in r:
        e = r["epoch"]
        print(f"train epoch on {e['rows']:,} rows (after {WARM_UP_STEPS} warm-up steps: {e['warm_up_s']:.1f} s, "
              "tracing included); fastest run of each:")
        print(f"  ours (portable arithmetic, fused Adam, per-batch padding): {e['ours_s']:.1f} s")
        for name, label in (("fixed_len", "every batch padded to max_len"), ("native", "native arithmetic"),
                            ("cap_only", "the AVX2 cap alone, every core (the portable arithmetic until 000b219)"),
                            ("keras_adam", "Keras' Adam")):
            print(f"  {label}: {e[name + '_s']:.1f} s -> ours is {e[name + '_s'] / e['ours_s']:.2f}x as fast")
        for name, seconds in e["runs"].items():
            print(f"  every run, {name}: {', '.join(f'{t:.1f}' for t in seconds)} s")
        q = r["genuine_val_accuracy"]
        print(f"genuine sample, val accuracy after {q['epochs']} epochs, mean of {q['seeds']} seeds: "
              f"ours {q['ours']:.4f}, fixed 200 {q['fixed_len']:.4f}")


if __name__ == "__main__":
    main()
