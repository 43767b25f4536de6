"""Movie genre from plot: the library under the pipeline's thin entry points in stages/.

Nothing here imports TensorFlow except `movie_genre.modeling`, so the stages
that prepare text start in a fraction of a second.
"""

import importlib.abc
import importlib.util
import sys


def _register_layers_when_keras_loads() -> None:
    """The saved model's layers register with Keras as soon as Keras is imported, so a
    bare `keras.saving.load_model(path, safe_mode=True)` loads the model after `import
    movie_genre`; the text stages, which never import Keras, pay nothing."""
    if "keras" in sys.modules:
        importlib.import_module("movie_genre.modeling.layers")
        return

    class AfterKeras(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "keras":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                importlib.import_module("movie_genre.modeling.layers")

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, AfterKeras())


_register_layers_when_keras_loads()
