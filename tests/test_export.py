"""The SavedModel that `export` writes, loaded as a server would: TensorFlow alone, none of this package."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT, dvc

from bench.serving import OURS

pytestmark = pytest.mark.slow

SERVING = "models/serving"
MODEL = "models/movie_genre_classification_model.keras"
ODD = {
    "empty": "",
    "stopwords only": "the and of it was to be",
    "digits only": "1984 2001 42 7",
}

# Runs in a fresh Python with no path to this repository: TensorFlow's defaults, no runtime.configure().
SERVER = """
import json, sys
import numpy as np
import tensorflow as tf

serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
batches = json.load(open(sys.argv[2]))
answers = []
for batch in batches:
    out = serve(title=tf.constant(batch["title"]), plot=tf.constant(batch["plot"]))
    answers.append({"outputs": sorted(out),
                    "probabilities": out["probabilities"].numpy().tolist(),
                    "genres": out["genres"].numpy().astype(str).tolist(),
                    "top_genre": out["top_genre"].numpy().astype(str).tolist()})
ours = sorted(name for name in sys.modules if name.split(".")[0] in ("movie_genre", "stages"))
json.dump({"answers": answers, "modules": ours}, sys.stdout)
"""

def model_genres(repo) -> list[str]:
    """The genre names the .keras file holds, read from its config without Keras."""
    with zipfile.ZipFile(repo / MODEL) as archive:
        config = json.loads(archive.read("config.json"))
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") == "genres" and "genres" in node:
                found.append(node["genres"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found[0]


@pytest.fixture(scope="module")
def batches(repo, first_run, tmp_path_factory):
    """Batches of 1 (each odd input, a normal plot, a very long one) and one of 256 holding them all."""
    lines = (repo / "data/raw/test_data.txt").read_text(encoding="utf-8").splitlines()
    titles, plots = zip(*(line.split(" ::: ")[1:3] for line in lines[:300]))
    odd = {**ODD, "very long": " ".join(plots[:60])}
    singles = [{"title": [""], "plot": [plot]} for plot in odd.values()] + [{"title": [titles[0]], "plot": [plots[0]]}]
    full = {"title": [""] * len(odd) + list(titles[: 256 - len(odd)]),
            "plot": list(odd.values()) + list(plots[: 256 - len(odd)])}
    path = tmp_path_factory.mktemp("serving") / "batches.json"
    path.write_text(json.dumps([*singles, full]))
    return path, odd


@pytest.fixture(scope="module")
def served(repo, batches, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("server")
    result = subprocess.run([sys.executable, "-c", SERVER, str(repo / SERVING / "1"), str(batches[0])],
                            cwd=cwd, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_server_loads_it_without_this_package(served):
    assert served["modules"] == []
    assert all(answer["outputs"] == ["genres", "probabilities", "top_genre"] for answer in served["answers"])


def test_its_outputs_are_batch_first_named_and_calibrated(repo, served, batches):
    genres = model_genres(repo)
    assert len(genres) == 27
    for answer in served["answers"]:
        probabilities = np.array(answer["probabilities"])
        assert probabilities.shape == (len(answer["top_genre"]), 27)  # batch-first, as Serving's row format wants
        assert answer["genres"] == [genres] * len(probabilities)
        assert np.all(probabilities >= 0) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
        assert answer["top_genre"] == [genres[i] for i in probabilities.argmax(axis=1)]
    full = np.array(served["answers"][-1]["probabilities"])
    odd = batches[1]
    # No word left after cleaning: the model's no-evidence answer, the same for each.
    no_evidence = [list(odd).index(name) for name in ODD]
    assert np.array_equal(full[no_evidence], np.repeat(full[no_evidence[:1]], len(no_evidence), axis=0))
    assert not np.allclose(full[list(odd).index("very long")], full[no_evidence[0]])
    # A text alone gives what it gives in a batch of 256, up to the last bits of other shapes.
    singles = np.array([answer["probabilities"][0] for answer in served["answers"][:-1]])
    assert np.allclose(singles, full[: len(singles)], atol=1e-6)


@pytest.fixture(scope="module")
def ours(repo, batches, tmp_path_factory):
    """Under the project's arithmetic, in one process: the .keras model's rows and the SavedModel's."""
    out = tmp_path_factory.mktemp("ours")
    result = subprocess.run([sys.executable, "-c", OURS, str(repo / MODEL), str(repo / SERVING / "1"), str(batches[0]),
                             str(out / "keras.npy"), str(out / "served.npy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return np.load(out / "keras.npy"), np.load(out / "served.npy")


def test_under_the_projects_arithmetic_it_gives_the_keras_models_bits(ours):
    keras_rows, served_rows = ours
    assert len(keras_rows) == 5 + 256 and np.array_equal(keras_rows, served_rows)


def test_under_tensorflows_defaults_it_stays_close(ours, served):
    served_rows = np.concatenate([answer["probabilities"] for answer in served["answers"]])
    assert np.abs(ours[0] - served_rows).max() < 1e-5


def test_export_again_is_the_same_bytes(repo, first_run):
    locked = (repo / "dvc.lock").read_text()
    dvc(repo, "repro", "--force", "--single-item", "export")
    assert (repo / "dvc.lock").read_text() == locked
