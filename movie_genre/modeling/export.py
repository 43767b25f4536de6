"""The saved model as a TensorFlow SavedModel: what TensorFlow Serving, or any process with
TensorFlow and none of this package, loads and calls.

Its `serving_default` signature takes batches of `title` and `plot` strings and
returns `probabilities` (calibrated, in genre order), `genres` (the names, one row
per text: TensorFlow Serving's row format wants every output batch-first) and
`top_genre`. The folder holds one version, `1/`, as TensorFlow Serving's
--model_base_path expects.
"""

import os
from pathlib import Path

import keras
import tensorflow as tf

from movie_genre.errors import PipelineError
from movie_genre.files import atomic_directory
from movie_genre.modeling.saving import genre_names
from movie_genre.runtime import NO_SAVED_MODEL_FINGERPRINT

SIGNATURE = "serving_default"
VERSION = "1"


def serving_function(model: keras.Model):
    """The signature's function: raw title and plot batches in, named outputs out."""
    genres = tf.constant(genre_names(model))

    def serve(title, plot):
        probabilities = model({"title": title, "plot": plot}, training=False)
        return {
            "probabilities": probabilities,
            "genres": tf.tile(genres[tf.newaxis, :], [tf.shape(probabilities)[0], 1]),
            "top_genre": tf.gather(genres, tf.argmax(probabilities, axis=-1)),
        }

    return serve


def export_saved_model(model: keras.Model, folder) -> None:
    """Write `folder`/1/ atomically, the same bytes for the same model.

    Call it in a fresh process that has run no other TensorFlow function: the
    graph's function names carry a process-wide counter.
    """
    flag, off = NO_SAVED_MODEL_FINGERPRINT
    if os.environ.get(flag) != off:
        raise PipelineError(f"export: set {flag}={off} before TensorFlow starts (its fingerprint.pb holds a "
                            "random uuid, so the folder's bytes would change every run)")
    archive = keras.export.ExportArchive()
    archive.track(model)  # the vectorizer's lookup table with it
    archive.add_endpoint(SIGNATURE, serving_function(model),
                         input_signature=[tf.TensorSpec([None], tf.string, name="title"),
                                          tf.TensorSpec([None], tf.string, name="plot")])
    _each_variable_once_in_model_order(archive, model)
    with atomic_directory(Path(folder)) as tmp:
        archive.write_out(str(tmp / VERSION), verbose=False)
        for leftover in tmp.rglob("fingerprint.pb"):
            raise PipelineError(f"export: {leftover} was written; TensorFlow ignored {flag}")


def _each_variable_once_in_model_order(archive, model: keras.Model) -> None:
    """What Keras' ExportArchive writes, made smaller and stable (through its private attributes,
    checked): it lists the variables the traced function reads in the order of a set keyed by
    memory address, which changes from run to run and with it the files' bytes, so they go in
    the model's order; and it saves each weight twice (the variable and Keras' wrapper of it, in
    the `variables` lists that track() fills), so the wrappers' lists are emptied: the signature
    reads the variables alone."""
    collect = getattr(archive, "_filter_and_track_resources", None)
    tracked = getattr(archive, "_tf_trackable", None)
    lists = ("variables", "trainable_variables", "non_trainable_variables")
    if collect is None or tracked is None or not all(hasattr(tracked, name) for name in lists):
        raise PipelineError(f"export needs Keras 3.15's ExportArchive internals, which Keras {keras.__version__} "
                            "lacks; pin keras==3.15.1 (requirements.txt)")
    rank = {id(variable.value): i for i, variable in enumerate(model.variables)}

    def collect_once_in_order():
        collect()
        found = tracked._all_variables
        if any(id(v) not in rank for v in found):
            raise PipelineError("export: the signature reads a variable that is not the model's")
        tracked._all_variables = sorted(found, key=lambda v: rank[id(v)])
        for name in lists:
            setattr(tracked, name, [])

    archive._filter_and_track_resources = collect_once_in_order
