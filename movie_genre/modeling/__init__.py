"""The Keras model: layers, building, the optimizer, saving, and training.

Everything under here imports TensorFlow; call movie_genre.runtime.configure()
before the first import (the stages do) so the arithmetic is the same on every CPU.
"""
