"""Predictions for a person: the cold command for one plot, a file of many, and the Python call.

    python -m bench.predict [--model PATH] [--plots 10000] [--explain-plots 10] [--repeat 3] [--code DIR]
                            [--json FILE]

- one plot: `python -m stages.predict "..."` from the shell prompt to the answer,
  in a new process (the median of --repeat runs);
- a file: `python -m stages.predict --file F --out O` with --plots plots made
  from the genuine test file's lines (repeated, new ids), the whole command and,
  inside one process after the model is loaded, the plots per second from the
  first plot's batch to the last line written;
- the Python call on a loaded model: one plot, after a first call;
- --explain: the one plot with and without it, and the first --explain-plots
  plots of the test file on one command line with and without it, the runs in
  turn; what it adds per plot, cold, and to the first call after the model is
  loaded in a new process (explain in predict_texts' place: the figure the
  machine's spells of slowness blur least). 0 leaves it out, for a checkout
  without --explain.

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

# A new process's first call on the loaded model (its graph's trace and run), what the
# command does after loading: predict_texts, or explain (--explain) in its place
FIRST_CALL = """
import json, sys, time
from movie_genre import runtime
runtime.configure()
with runtime.quiet_start_up():
    from movie_genre.modeling.saving import load_model, predict_texts
    model = load_model(sys.argv[1])
    if sys.argv[2] == "explain":
        from movie_genre.explain import explain as call
    else:
        call = predict_texts
    start = time.perf_counter()
    call(model, sys.argv[3:])
print(json.dumps({"first_call_s": time.perf_counter() - start}))
"""


def timed(command, cwd, env) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def inner(script: str, args, cwd, env) -> dict:
    """What a Python script run in a new process printed last, as JSON."""
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_lines() -> list[str]:
    return (ROOT / "data/raw/test_data.txt").read_text(encoding="utf-8").splitlines()


def plots_file(path: Path, plots: int) -> None:
    lines = test_lines()
    rows = (lines[i % len(lines)].split(" ::: ", 1)[1] for i in range(plots))
    path.write_text("".join(f"{i} ::: {row}\n" for i, row in enumerate(rows, 1)), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/movie_genre_classification_model.keras")
    parser.add_argument("--plots", type=int, default=10000)
    parser.add_argument("--explain-plots", type=int, default=10, help="plots for --explain's per-plot figure")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code runs (default this one)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(args.code), "TF_CPP_MIN_LOG_LEVEL": "2"}
    model = str(args.model.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        source, out = Path(tmp) / "plots.txt", Path(tmp) / "out.txt"
        plots_file(source, args.plots)
        predict = [sys.executable, "-m", "stages.predict", "--model", model]
        calls = {"one": ("predict", [PLOT])}
        if args.explain_plots:
            several = [line.split(" ::: ", 2)[2] for line in test_lines()[: args.explain_plots]]
            calls.update({"explain_one": ("explain", [PLOT]), "several": ("predict", several),
                          "explain_several": ("explain", several)})
        cold, first = {name: [] for name in calls}, {name: [] for name in calls}
        for _ in range(args.repeat):  # in turn: a slow spell of the machine falls on both sides of a comparison
            for name, (call, plots) in calls.items():
                flag = ["--explain"] if call == "explain" else []
                cold[name].append(timed([*predict, *flag, *plots], args.code, env))
                if args.explain_plots:
                    first[name].append(inner(FIRST_CALL, [model, call, *plots], args.code, env)["first_call_s"])
        one = cold["one"]
        whole = [timed([*predict, "--file", source, "--out", out], args.code, env) for _ in range(args.repeat)]
        file_runs = [inner(INNER, [model, source, out, PLOT], args.code, env) for _ in range(args.repeat)]
    results = {
        "code": str(args.code), "model": model, "plots": args.plots, "repeat": args.repeat,
        "one_plot_cold_s": statistics.median(one), "one_plot_cold_runs": one,
        "file_command_s": statistics.median(whole),
        "file_plots_per_s": args.plots / statistics.median(r["file_s"] for r in file_runs),
        "python_one_plot_s": statistics.median(r["one_call_s"] for r in file_runs),
    }
    if args.explain_plots:
        median = {name: statistics.median(times) for name, times in cold.items()}
        after_load = {name: statistics.median(times) for name, times in first.items()}
        results.update({
            "explain_one_plot_cold_s": median["explain_one"], "explain_one_plot_cold_runs": cold["explain_one"],
            "explain_one_plot_extra_s": median["explain_one"] - median["one"],
            "explain_plots": args.explain_plots,
            "several_plots_cold_s": median["several"],
            "explain_several_plots_cold_s": median["explain_several"],
            "explain_per_plot_extra_s": (median["explain_several"] - median["several"]) / args.explain_plots,
            "first_call_s": after_load,
            "explain_one_plot_first_call_extra_s": after_load["explain_one"] - after_load["one"],
            "explain_per_plot_first_call_extra_s": (after_load["explain_several"] - after_load["several"])
            / args.explain_plots,
        })
    print(f"code {args.code}, model {args.model.name}, {os.cpu_count()} cores; median of {args.repeat} runs")
    print(f"one plot, cold, shell prompt to answer: {results['one_plot_cold_s']:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in one)}; target at most 6 s)")
    print(f"--file with {args.plots:,} plots, the whole command: {results['file_command_s']:.1f} s")
    print(f"--file with {args.plots:,} plots, first batch to last line: {results['file_plots_per_s']:,.0f} plots/s "
          "(target at least 1,500)")
    print(f"Python, one plot on a loaded model: {results['python_one_plot_s'] * 1000:.0f} ms")
    if args.explain_plots:
        print(f"--explain, one plot, cold: {results['explain_one_plot_cold_s']:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in cold['explain_one'])}), "
              f"{results['explain_one_plot_extra_s']:+.2f} s over the plain command (target at most +0.5 s)")
        print(f"  the first call after loading: {after_load['explain_one']:.2f} s against predict_texts' "
              f"{after_load['one']:.2f} s, {results['explain_one_plot_first_call_extra_s']:+.2f} s")
        print(f"--explain, the test file's first {args.explain_plots} plots, cold: "
              f"{results['explain_several_plots_cold_s']:.2f} s against {results['several_plots_cold_s']:.2f} s "
              f"without, {results['explain_per_plot_extra_s']:+.3f} s per plot (target at most +0.5 s)")
        print(f"  the first call after loading: {after_load['explain_several']:.2f} s against predict_texts' "
              f"{after_load['several']:.2f} s, {results['explain_per_plot_first_call_extra_s']:+.3f} s per plot")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
