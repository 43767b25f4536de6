"""The `train` section of params.yaml: what each key may hold (no TensorFlow, so it is checked first)."""

from movie_genre import glove, runtime
from movie_genre.errors import PipelineError
from movie_genre.params import Param

PARAMS = {
    "epochs": Param(int, low=1),
    "batch_size": Param(int, low=1),
    "embedding": Param(str, choices=("random", "glove", "corpus")),
    "encoder": Param(str, choices=("fresh", "pretrained")),
    "encoder_lr_scale": Param(float, low=0, high=1),
    "embedding_dim": Param(int, low=1),
    "embedding_trainable": Param(bool),
    "bidirectional": Param(bool),
    "lstm_units": Param(int, low=1),
    "pooling": Param(str, choices=("last", "max", "mean", "max_mean", "attention")),
    "dropout": Param(float, low=0, high=1),
    "optimizer": Param(str, choices=("fused_adam", "adam")),
    "learning_rate": Param(float, low=0, exclusive=True),
    "lr_schedule": Param(str, choices=("constant", "cosine")),
    "class_weight_power": Param(float, low=0, high=1),
    "label_smoothing": Param(float, low=0, high=1),
    "monitor": Param(str, choices=("val_loss", "val_macro_f1")),
    "patience": Param(int, low=1),
    "arithmetic": Param(str, choices=runtime.ARITHMETIC),
    "members": Param(int, low=1),
    "wide": Param(str, choices=("linear_svc", "softmax", "none")),
    "wide_C": Param(float, low=0, exclusive=True),
    "wide_l2": Param(float, low=0, exclusive=True),
    "wide_max_ngrams": Param(int, low=1),
    "seed": Param(int, low=0),
}


def check_params(params: dict) -> None:
    """What the keys allow together. Under encoder: pretrained the encoder file's shapes are
    checked when it is read (modeling/train.py), not pretrain's params: train does not read them."""
    if params["encoder"] != "pretrained" and params["encoder_lr_scale"] != 1.0:
        raise PipelineError("params.yaml: 'train.encoder_lr_scale' needs train.encoder: pretrained; set it, "
                            "or set train.encoder_lr_scale back to 1.0")
    if params["encoder_lr_scale"] != 1.0 and params["optimizer"] != "fused_adam":
        raise PipelineError("params.yaml: 'train.encoder_lr_scale' works with train.optimizer: fused_adam only")
    if params["embedding"] == "glove" and params["embedding_dim"] != glove.DIM:
        raise PipelineError(
            f"params.yaml: 'train.embedding_dim' is {params['embedding_dim']}; with "
            f"train.embedding=glove it must be {glove.DIM}, the GloVe vectors' size"
        )
