"""The exported SavedModel against the .keras model, on the genuine test plots.

    python -m bench.serving [--serving models/serving/1] [--json FILE]

Both see the same batches (the test file's plots by length, 256 at a time, as
predict_texts cuts them):
- under the project's arithmetic (runtime.configure()), in one process: how many
  rows the two give bit for bit the same;
- the SavedModel under TensorFlow's defaults, in a process that never imports
  this package (as a server loads it): its largest difference from the .keras
  model's probabilities, and how many top genres change. Also its load time.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

OURS = """
import json, sys
import numpy as np
from movie_genre import runtime
runtime.configure()
import tensorflow as tf
from movie_genre.modeling.saving import _forward, load_model

model, serve = load_model(sys.argv[1]), tf.saved_model.load(sys.argv[2]).signatures["serving_default"]
keras_rows, served_rows = [], []
for batch in json.load(open(sys.argv[3])):
    texts = {"title": tf.constant(batch["title"]), "plot": tf.constant(batch["plot"])}
    keras_rows.append(_forward(model)(texts).numpy())
    served_rows.append(serve(**texts)["probabilities"].numpy())
np.save(sys.argv[4], np.concatenate(keras_rows))
np.save(sys.argv[5], np.concatenate(served_rows))
"""

SERVER = """
import json, sys, time
import numpy as np
start = time.perf_counter()
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
loaded = time.perf_counter() - start
rows = [serve(title=tf.constant(b["title"]), plot=tf.constant(b["plot"]))["probabilities"].numpy()
        for b in json.load(open(sys.argv[2]))]
np.save(sys.argv[3], np.concatenate(rows))
ours = [m for m in sys.modules if m.split(".")[0] in ("movie_genre", "stages")]
print(json.dumps({"load_s": loaded, "our_modules": ours}))
"""


def batches(path: Path, size: int = 256) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    titles, plots = zip(*(line.split(" ::: ")[1:3] for line in lines))
    order = np.argsort([len(t) + len(p) for t, p in zip(titles, plots)], kind="stable")
    return [{"title": [titles[i] for i in order[s : s + size]], "plot": [plots[i] for i in order[s : s + size]]}
            for s in range(0, len(order), size)]


def run(command, cwd, env=None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serving", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/movie_genre_classification_model.keras")
    parser.add_argument("--serving", type=Path, default=ROOT / "models/serving/1")
    parser.add_argument("--plots", type=Path, default=ROOT / "data/raw/test_data.txt")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        tmp = Path(tmp)
        (tmp / "batches.json").write_text(json.dumps(batches(args.plots)))
        keras_file, same, defaults = tmp / "keras.npy", tmp / "same.npy", tmp / "defaults.npy"
        run([sys.executable, "-c", OURS, args.model.resolve(), args.serving.resolve(), tmp / "batches.json",
             keras_file, same], ROOT, {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})
        server = json.loads(run([sys.executable, "-c", SERVER, args.serving.resolve(), tmp / "batches.json", defaults],
                                tmp, {"PATH": os.environ["PATH"], "TF_CPP_MIN_LOG_LEVEL": "2"}).splitlines()[-1])
        keras_p, same_p, default_p = np.load(keras_file), np.load(same), np.load(defaults)
    results = {
        "plots": len(keras_p),
        "same_arithmetic_rows_bit_equal": int(np.all(keras_p == same_p, axis=1).sum()),
        "defaults_max_abs_difference": float(np.abs(keras_p - default_p).max()),
        "defaults_rows_bit_equal": int(np.all(keras_p == default_p, axis=1).sum()),
        "defaults_top_genre_changed": int((keras_p.argmax(1) != default_p.argmax(1)).sum()),
        "defaults_load_s": server["load_s"],
        "server_imported_ours": server["our_modules"],
    }
    print(f"{results['plots']:,} plots, the same batches both ways")
    print(f"project arithmetic: {results['same_arithmetic_rows_bit_equal']:,} rows bit for bit the .keras model's")
    print(f"TensorFlow's defaults, without this package: largest difference "
          f"{results['defaults_max_abs_difference']:.2e}, {results['defaults_rows_bit_equal']:,} rows bit-equal, "
          f"{results['defaults_top_genre_changed']} top genres changed; "
          f"import and load {results['defaults_load_s']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
