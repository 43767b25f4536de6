"""The optimizer: Keras' Adam, or the same arithmetic through TensorFlow's fused kernel."""

import keras
import tensorflow as tf

from movie_genre.errors import PipelineError
from movie_genre.modeling.build import logits


class FusedAdam(keras.optimizers.Adam):
    """Keras' Adam, each update done by TensorFlow's fused kernel (ResourceApplyAdam).

    The same arithmetic in one pass over a weight and its two moments, where
    Keras' ops take about ten; on the embedding's ~20,000 learned rows that was a
    quarter of each training step.  It also sums an embedding row's gradients
    before squaring them, as Adam is defined; Keras' Adam, given the looked-up
    slices, squares each part of a repeated word's gradient apart.
    """

    # Keras' Adam keeps its moments in these private attributes; a Keras that
    # renames them gets a clear error from make_optimizer, not a wrong update.
    PRIVATE = ("_get_variable_index", "_momentums", "_velocities")

    def __init__(self, learning_rate, scales: dict | None = None, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.scales = scales or {}  # weight path -> factor on the learning rate (train.encoder_lr_scale)

    def build(self, variables):
        super().build(variables)
        self._factors = [self.scales.get(v.path, 1.0) for v in variables]  # by Keras' variable index
        missing = [name for name in self.PRIVATE if not hasattr(self, name)]
        if missing:
            raise PipelineError(
                f"train.optimizer=fused_adam needs Keras' Adam internals ({', '.join(missing)}), which "
                f"Keras {keras.__version__} lacks; set train.optimizer: adam (same arithmetic, slower)"
            )

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        rate = tf.cast(learning_rate, dtype)
        if self._factors[index] != 1.0:
            rate = rate * self._factors[index]
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].value.handle, v=self._velocities[index].value.handle,
            beta1_power=beta_1**step, beta2_power=beta_2**step, lr=rate,
            beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=tf.convert_to_tensor(gradient),
        )


def training_model(classifier: keras.Model, params: dict, total_steps: int) -> keras.Model:
    """The classifier's layers up to its logits, compiled for training.

    The loss reads the logits: Keras' cross-entropy from logits is the one it
    would pick behind its own softmax, and it needs no softmax of its own. The
    optimizer belongs to this wrapper, so the classifier that goes into the saved
    model stays uncompiled and the file holds no optimizer state.  With
    train.encoder_lr_scale, every weight but the genre layer's learns at that
    share of the learning rate.
    """
    learning_rate = params["learning_rate"]
    if params["lr_schedule"] == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    scale = params.get("encoder_lr_scale", 1.0)
    scales = {w.path: scale for w in classifier.trainable_weights if not w.path.startswith("genre/")}
    model = keras.Model(classifier.inputs, logits(classifier), name="training")
    model.compile(
        optimizer=make_optimizer(params["optimizer"], learning_rate, scales if scale != 1.0 else None),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=params["label_smoothing"]),
        metrics=["accuracy"],
    )
    return model


def make_optimizer(name: str, learning_rate, scales: dict | None = None):
    """train.optimizer: `fused_adam` (TensorFlow's fused kernel) or Keras' own `adam`."""
    return FusedAdam(learning_rate, scales) if name == "fused_adam" else keras.optimizers.Adam(learning_rate)
