"""Predictions for a person: the cold command for one plot, a file of many, and the Python call.

    python -m bench.predict [--model PATH] [--plots 10000] [--repeat 3] [--code DIR] [--json FILE]

- one plot: `python -m stages.predict "..."` from the shell prompt to the answer,
  in a new process (the median of --repeat runs);
- a file: `python -m stages.predict --file F --out O` with --plots plots made
  from the genuine test file's lines (repeated, new ids), the whole command and,
  inside one process after the model is loaded, the plots per second from the
  first plot's batch to the last line written;
- the Python call on a loaded model: one plot, after a first call.

--code DIR runs another checkout's stages and library on the same model (a
worktree of an earlier commit, for a side-by-side figure).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLOT = "A retired hitman takes one last job in Tokyo."

INNER = """
import json, sys, time
from pathlib import Path
from movie_genre import runtime
runtime.configure()
with runtime.quiet_start_up():
    from movie_genre.modeling.saving import genre_names, load_model, predict_texts
    from movie_genre.predictions import prediction_lines, top_genres
    from movie_genre.records import parse_file
    model = load_model(sys.argv[1])
    columns = parse_file(Path(sys.argv[2]), labelled=False)[0].to_pydict()
    predict_texts(model, ["a warm-up plot"])
    start = time.perf_counter()
    single = predict_texts(model, [sys.argv[4]])
    one = time.perf_counter() - start
    start = time.perf_counter()
    probabilities = predict_texts(model, columns["plot"], columns["title"])
    best = [row[0][0] for row in top_genres(probabilities, genre_names(model), 1)]
    Path(sys.argv[3]).write_text(prediction_lines(columns["id"], columns["title"], best), encoding="utf-8")
    many = time.perf_counter() - start
print(json.dumps({"plots": len(best), "file_s": many, "one_call_s": one}))
"""


def timed(command, cwd, env) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def plots_file(path: Path, plots: int) -> None:
    lines = (ROOT / "data/raw/test_data.txt").read_text(encoding="utf-8").splitlines()
    rows = (lines[i % len(lines)].split(" ::: ", 1)[1] for i in range(plots))
    path.write_text("".join(f"{i} ::: {row}\n" for i, row in enumerate(rows, 1)), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/movie_genre_classification_model.keras")
    parser.add_argument("--plots", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code runs (default this one)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(args.code), "TF_CPP_MIN_LOG_LEVEL": "2"}
    model = str(args.model.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        source, out = Path(tmp) / "plots.txt", Path(tmp) / "out.txt"
        plots_file(source, args.plots)
        one = [timed([sys.executable, "-m", "stages.predict", "--model", model, PLOT], args.code, env)
               for _ in range(args.repeat)]
        whole = [timed([sys.executable, "-m", "stages.predict", "--model", model, "--file", source, "--out", out],
                       args.code, env) for _ in range(args.repeat)]
        inner = []
        for _ in range(args.repeat):
            result = subprocess.run([sys.executable, "-c", INNER, model, source, out, PLOT], cwd=args.code, env=env,
                                    capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(result.stderr[-3000:])
            inner.append(json.loads(result.stdout.strip().splitlines()[-1]))
    results = {
        "code": str(args.code), "model": model, "plots": args.plots, "repeat": args.repeat,
        "one_plot_cold_s": statistics.median(one), "one_plot_cold_runs": one,
        "file_command_s": statistics.median(whole),
        "file_plots_per_s": args.plots / statistics.median(r["file_s"] for r in inner),
        "python_one_plot_s": statistics.median(r["one_call_s"] for r in inner),
    }
    print(f"code {args.code}, model {args.model.name}, {os.cpu_count()} cores; median of {args.repeat} runs")
    print(f"one plot, cold, shell prompt to answer: {results['one_plot_cold_s']:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in one)}; target at most 6 s)")
    print(f"--file with {args.plots:,} plots, the whole command: {results['file_command_s']:.1f} s")
    print(f"--file with {args.plots:,} plots, first batch to last line: {results['file_plots_per_s']:,.0f} plots/s "
          "(target at least 1,500)")
    print(f"Python, one plot on a loaded model: {results['python_one_plot_s'] * 1000:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
