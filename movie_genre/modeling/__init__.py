"""The Keras model: layers, building, the optimizer, saving, and training.

Everything under here imports TensorFlow but members.py and schema.py, which the stages
import first; call movie_genre.runtime.configure() before the first import of the rest
(the stages do) so the arithmetic is the same on every CPU.
"""
