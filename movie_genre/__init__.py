"""Movie genre from plot: the library under the pipeline's thin entry points in stages/.

Nothing here imports TensorFlow except `movie_genre.modeling`, so the stages
that prepare text start in a fraction of a second.
"""
