"""Byte-stable saving, safe loading, and predictions from the saved model on raw text."""

import json
import re
import zipfile

import keras
import numpy as np
import tensorflow as tf

from movie_genre.errors import PipelineError
from movie_genre.files import atomic_path
from movie_genre.modeling import layers  # registers the custom layers for loading


def save_model(model: keras.Model, path) -> None:
    """Save atomically, byte for byte the same for the same weights.

    Keras stamps the zip entries and metadata.json with the time and numbers
    shared objects by memory address; DVC would see a new model on every run and
    `dvc.lock` would never settle.  Here the stamps go and the numbers are
    renumbered in order of appearance, which keeps every link between them.
    """
    with atomic_path(path) as stable:
        raw = stable.with_name(stable.stem + "-keras.keras")
        try:
            model.save(raw)
            with zipfile.ZipFile(raw) as source, zipfile.ZipFile(stable, "w") as target:
                for entry in source.infolist():
                    data = source.read(entry)
                    if entry.filename == "metadata.json":
                        metadata = json.loads(data)
                        metadata.pop("date_saved", None)
                        data = json.dumps(metadata, sort_keys=True).encode()
                    elif entry.filename == "config.json":
                        data = json.dumps(_renumber_shared_objects(json.loads(data), {})).encode()
                    target.writestr(zipfile.ZipInfo(entry.filename), data, compress_type=entry.compress_type)
        finally:
            raw.unlink(missing_ok=True)


def _renumber_shared_objects(node, numbers: dict):
    if isinstance(node, dict):
        return {
            key: numbers.setdefault(value, len(numbers) + 1) if key == "shared_object_id"
            else _renumber_shared_objects(value, numbers)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renumber_shared_objects(value, numbers) for value in node]
    return node


def unknown_layers(path) -> list[str]:
    """The project's layer names the saved model uses that this version of the package does not register."""
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json").decode("utf-8")
    names = set(re.findall(rf'"registered_name": "({layers.PACKAGE}>[^"]+)"', config))
    return sorted(name for name in names if keras.saving.get_registered_object(name) is None)


def load_model(path) -> keras.Model:
    """Load the saved text model with Keras' safe mode on (no arbitrary code)."""
    return keras.saving.load_model(path, safe_mode=True)


def open_model(path) -> keras.Model:
    """load_model for a person's --model, which predictions.check_model_file has checked (before
    TensorFlow starts): one line saying why a file is not a model we can use."""
    try:
        model = load_model(path)
        genre_names(model)
        return model
    except (TypeError, ValueError, KeyError) as error:
        unknown = unknown_layers(path)
        reason = f"unknown layers: {', '.join(unknown)}" if unknown else f"{type(error).__name__} from Keras"
        raise PipelineError(
            f"{path}: not a model this version of the project can load ({reason}); "
            "retrain it with `dvc repro train`, or use the project's commit that saved it"
        ) from error


def genre_names(model: keras.Model) -> list[str]:
    return model.get_layer("genres").genres


def stopwords(model: keras.Model) -> list[str]:
    """The stopwords the model's own cleaning drops."""
    return model.get_layer("cleaner").stopwords


def reads_title(model: keras.Model) -> bool:
    return model.get_layer("text").with_title


_FORWARD = "_movie_genre_forward"  # the model's traced forward pass, kept on the model


def traced_forward(model: keras.Model, signature):
    """The model (training=False) as one TensorFlow graph for inputs of `signature`, traced
    once, on the first call, for any batch of that spec, and kept on the model."""
    if not hasattr(model, _FORWARD):
        setattr(model, _FORWARD, tf.function(lambda batch: model(batch, training=False), input_signature=[signature]))
    return getattr(model, _FORWARD)


def _forward(model: keras.Model):
    """The text model on a batch of raw texts, any batch size."""
    texts = tf.TensorSpec([None], tf.string)
    return traced_forward(model, {"title": texts, "plot": texts})


def predict_texts(model: keras.Model, plots, titles=None, batch_size: int = 256):
    """Genre probabilities for raw plots (and their titles, "" if None), as a (plots, genres) array in input order.

    Texts go through in order of length so each batch is padded only to its
    longest text.
    """
    plots = list(plots)
    if not plots:
        return np.zeros((0, len(genre_names(model))), dtype=np.float32)
    return _predict(_forward(model), plots, titles, batch_size)[0]


def predict_paths(model: keras.Model, plots, titles=None, batch_size: int = 256) -> list[np.ndarray]:
    """Each path's output before the blend, as predict_texts gives the model's: the members'
    probabilities, then (if there is one) the wide path's scores."""
    return _predict(_forward(path_outputs(model)), plots, titles, batch_size)


def predict_with_paths(model: keras.Model, plots, titles=None, batch_size: int = 256) -> list[np.ndarray]:
    """predict_texts' probabilities, then predict_paths' outputs, from one pass over the texts."""
    paths = path_outputs(model)
    both = keras.Model(model.inputs, [model.outputs[0], *paths.outputs])
    return _predict(_forward(both), plots, titles, batch_size)


def path_outputs(model: keras.Model) -> keras.Model:
    """A saved model's paths before they are pooled: [members' probabilities, wide scores]
    (the second absent without a wide path)."""
    inputs = model.get_layer(layers.BLEND).input
    return keras.Model(model.inputs, list(inputs) if isinstance(inputs, list | tuple) else [inputs])


def _predict(forward, plots, titles, batch_size: int) -> list[np.ndarray]:
    plots = list(plots)
    titles = [""] * len(plots) if titles is None else list(titles)
    if len(titles) != len(plots):
        raise ValueError(f"{len(titles)} titles for {len(plots)} plots")
    order = np.argsort([len(title) + len(plot) for title, plot in zip(titles, plots)], kind="stable")
    outputs = None
    for start in range(0, len(plots), batch_size):
        rows = order[start : start + batch_size]
        batch = {"title": tf.constant([titles[i] for i in rows]), "plot": tf.constant([plots[i] for i in rows])}
        got = forward(batch)
        got = list(got) if isinstance(got, list | tuple) else [got]
        if outputs is None:
            outputs = [np.zeros((len(plots), part.shape[1]), dtype=np.float32) for part in got]
        for output, part in zip(outputs, got):
            output[rows] = part.numpy()
    return outputs
