"""The scale-out path: one epoch of the real model under tf.distribute.MirroredStrategy."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

# Two logical CPU devices stand in for two GPUs; they must be set before TensorFlow starts.
SCRIPT = """
import json, sys
from pathlib import Path
from movie_genre import runtime
runtime.configure()
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
import yaml
from movie_genre.modeling.batching import LengthBatches
from movie_genre.modeling.build import build_classifier
from movie_genre.modeling.optimizers import training_model
from movie_genre.vocabulary import RESERVED, read_sequences

repo, optimizer = Path(sys.argv[1]), sys.argv[2]
params = {**yaml.safe_load((repo / "params.yaml").read_text())["train"], "optimizer": optimizer}
x, lengths, y = read_sequences(repo / "data/tokenized/train.parquet")
vocabulary = (repo / "data/tokenized/vocabulary.txt").read_text().splitlines()
genres = json.loads((repo / "data/tokenized/genres.json").read_text())
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    keras.utils.set_random_seed(0)
    classifier = build_classifier(len(vocabulary) + RESERVED, len(genres), params, None, int(x.max()) + 1)
    model = training_model(classifier, params, total_steps=100)
before = [w.numpy().copy() for w in classifier.trainable_weights]
batches = LengthBatches(x, lengths, y, len(genres), params["batch_size"] * strategy.num_replicas_in_sync, seed=0)
history = model.fit(batches, epochs=1, verbose=0)
moved = [bool(not np.allclose(b, w.numpy())) for b, w in zip(before, classifier.trainable_weights)]
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"][0], "moved": moved}))
"""


def one_epoch(repo, optimizer) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(repo), optimizer], cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_one_epoch_under_mirrored_strategy_with_either_optimizer(repo, first_run):
    fused, plain = one_epoch(repo, "fused_adam"), one_epoch(repo, "adam")
    assert fused["replicas"] == plain["replicas"] == 2
    assert all(fused["moved"]) and all(plain["moved"])  # every trainable weight was updated
    # The same arithmetic, bar the order of a repeated word's gradient parts.
    assert fused["loss"] == pytest.approx(plain["loss"], rel=0.01)
    assert 0 < fused["loss"] < 10
