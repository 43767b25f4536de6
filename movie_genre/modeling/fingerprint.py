"""The arithmetic fingerprint: md5s of the ops the model is made of, on exact inputs.

    python -m movie_genre.modeling.fingerprint                 # print it (`#` lines: this CPU, the arithmetic)
    python -m movie_genre.modeling.fingerprint --check FILE    # exit 1 naming the first op that differs from FILE

Each line is `name md5`: matrix products at the shapes training runs (the
defaults and the largest it tries: lstm_units 256, batch_size 512,
embedding_dim 300; the params set no upper bound), the QR behind Keras' orthogonal initializer, the
activations and reductions, the masked LSTM's op forward and its gradients, and a few
training steps of the real classifier from its seeded initial weights. Inputs
are integers below 2**22 scaled by powers of two, so every machine starts from
the same floats and a differing line means the same sums were added in another
order. Two machines with the same lines train the same model from the same data.
"""

import argparse
import hashlib
import os
import platform
import sys
from pathlib import Path

from movie_genre import runtime

REFERENCE = Path("tests/arithmetic/fingerprint.txt")
WANTED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile")
# (batch, embedding_dim, lstm_units, genres): the defaults, and the largest shapes checked
SHAPES = {"default": (64, 50, 64, 27), "large": (512, 300, 256, 27)}


def cpu() -> str:
    """The CPU as Linux tells it: model, family and model numbers, the flags that matter, the caches."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        return f"{platform.machine()} ({platform.system()})"
    flags = set(info.get("flags", "").split())
    caches = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            kind = {"Data": "d", "Instruction": "i"}.get((index / "type").read_text().strip(), "")
            caches.append(f"L{(index / 'level').read_text().strip()}{kind} {(index / 'size').read_text().strip()}")
        except OSError:
            pass
    return (f"{info.get('model name', 'unknown')} (family {info.get('cpu family')} model {info.get('model')}); "
            f"flags {' '.join(f for f in WANTED_FLAGS if f in flags) or 'none of ' + ' '.join(WANTED_FLAGS)}; "
            f"caches {', '.join(caches) or 'unknown'}; cores {len(os.sched_getaffinity(0))}")


def _line(name: str, *values) -> str:
    """`name md5` of the values' bytes, one after another (tensors or arrays)."""
    import numpy as np

    md5 = hashlib.md5()
    for value in values:
        md5.update(np.ascontiguousarray(value.numpy() if hasattr(value, "numpy") else value).tobytes())
    return f"{name:<48} {md5.hexdigest()[:12]}"


def _exact(shape, seed, scale=1.0):
    """Integers below 2**22 times a power of two: every machine holds the same floats."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return (rng.integers(-(2**22), 2**22 + 1, size=shape) * (scale * 2.0**-22)).astype(np.float32)


def lines(default_shapes_only: bool = False):
    """The fingerprint, one `name md5` line per op as each is computed (configure() must have run).

    `default_shapes_only`: every kind of op, at the default params' shapes only (4 to 6
    minutes under QEMU, against 8 to 10 for every line).
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from movie_genre.modeling.layers import FusedLSTM, exact_softmax

    tf.config.experimental.enable_op_determinism()
    # TensorFlow's warnings (a retrace, say) stay off stderr, where --check writes its verdict
    tf.get_logger().setLevel("ERROR")

    for tag, (batch, dim, units, genres) in list(SHAPES.items())[: 1 if default_shapes_only else None]:
        gates = 4 * units
        # An LSTM step's product of [x, h] and both kernels, its gradients, the head
        products = {"lstm step": (batch, dim + units, gates), "lstm weight gradient": (dim + units, batch, gates),
                    "lstm [x, h] gradient": (batch, gates, dim + units), "head": (batch, 2 * 2 * units, genres),
                    "head gradient": (2 * 2 * units, batch, genres)}
        for seed, (role, (m, k, n)) in enumerate(products.items()):
            product = tf.matmul(_exact((m, k), 2 * seed), _exact((k, n), 2 * seed + 1))
            yield _line(f"{tag} {role} {m}x{k} @ {k}x{n}", product)
        # Keras' orthogonal initializer: a QR of a (4 units, units) normal matrix
        q, r = tf.linalg.qr(_exact((gates, units), units))
        yield _line(f"{tag} qr {gates}x{units} q", q)
        yield _line(f"{tag} qr {gates}x{units} r", r)
        orthogonal = keras.initializers.Orthogonal(seed=1)((units, gates))
        yield _line(f"{tag} orthogonal initializer ({units}, {gates})", orthogonal)
        x = _exact((batch * 60, gates), 6, 4.0)
        for name, op in (("tanh", tf.tanh), ("sigmoid", tf.sigmoid), ("exp", tf.exp)):
            yield _line(f"{tag} {name} {batch * 60}x{gates}", op(x))
        logits = _exact((batch, genres), 7, 8.0)
        yield _line(f"{tag} exact softmax {batch}x{genres}", exact_softmax(logits))
        yield _line(f"{tag} log_softmax {batch}x{genres}", tf.nn.log_softmax(logits))
        yield _line(f"{tag} reduce_sum over time", tf.reduce_sum(tf.reshape(x, (batch, 60, gates)), axis=1))
        yield _line(f"{tag} reduce_max over time", tf.reduce_max(tf.reshape(x, (batch, 60, gates)), axis=1))
        ids = tf.constant(np.random.default_rng(8).integers(0, 2000, size=batch * 60).astype(np.int32))
        summed = tf.math.unsorted_segment_sum(x[:, :dim], ids, 2000)
        yield _line(f"{tag} unsorted_segment_sum {batch * 60} -> 2000", summed)
    # Long sums past the params' range (k of 12800: many of Eigen's k-blocks), at widths QEMU finishes
    for m, k, n in () if default_shapes_only else ((64, 4000, 256), (512, 512, 512), (32, 12800, 256)):
        yield _line(f"matmul {m}x{k} @ {k}x{n}", tf.matmul(_exact((m, k), 1), _exact((k, n), 2)))

    batch, dim, units, _ = SHAPES["default"]
    inputs = tf.constant(_exact((batch, 60, dim), 10))
    mask = tf.constant(np.arange(60)[None, :] < np.random.default_rng(11).integers(5, 61, size=(batch, 1)))
    keras.utils.set_random_seed(0)
    lstm = FusedLSTM(units, return_sequences=True, go_backwards=True)
    lstm.build((None, None, dim))
    for weight, seed in zip(lstm.weights, range(20, 30)):
        weight.assign(_exact(weight.shape, seed, 2.0**-3))
    with tf.GradientTape() as tape:
        sequences = lstm(inputs, mask=mask)
        loss = tf.reduce_sum(sequences * _exact(sequences.shape, 12))
    yield _line("lstm forward (masked)", sequences)
    for weight, gradient in zip(lstm.weights, tape.gradient(loss, lstm.weights)):
        yield _line(f"lstm gradient {weight.path}", gradient)

    # Short texts and few steps: emulated (scripts/test_cpus.py), a step's product takes ~6M
    # multiply-adds a second. The large steps' weights are the large shapes' (their products
    # at batch 512 are the `large` lines above); a batch of 16 keeps them to about a minute.
    yield from _training_steps("default", *SHAPES["default"], width=24, steps=3)
    if not default_shapes_only:
        yield from _training_steps("large", 16, *SHAPES["large"][1:], width=4, steps=2)
    yield from _training_steps("pretraining", *SHAPES["default"], width=24, steps=2, names=True)
    yield from _scales_fit()
    yield from _wide_path(400, 27)
    yield _text_model_forward(32, *SHAPES["default"][1:])


def _scales_fit() -> list[str]:
    """calibration.fit_scales, and the likelihoods it compares, on exact probabilities and scores."""
    import numpy as np

    from movie_genre.calibration import fit_scales, log_probabilities, scales_loss

    rng = np.random.default_rng(14)
    counts = rng.integers(1, 2**10, size=(500, 27)) ** rng.integers(1, 4, size=(500, 1))
    probabilities = (counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)
    scores = rng.integers(-2**10, 2**10, size=(500, 27)) * 2.0**-9
    labels = np.where(rng.random(500) < 0.5, probabilities.argmax(axis=1), rng.integers(0, 27, 500))
    paths = [log_probabilities(probabilities), scores]
    loss = scales_loss(paths, labels)
    return [_line("scales fit", np.array(fit_scales(paths, labels))),
            _line("scales likelihoods", np.array([loss((a, c))[0] for a in (0.3, 1.0) for c in (0.5, 2.0)]))]


def _words(rng, n):
    """Random lowercase words, sorted, without repeats (fewer than n)."""
    import numpy as np

    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return sorted({"".join(rng.choice(letters, size=rng.integers(3, 9))) for _ in range(n)})


def _wide_path(texts, genres):
    """The wide path (modeling/wide.py) on texts of words from a small vocabulary, so that many
    n-grams repeat: its TF-IDF, a few softmax fitting steps, the LinearSVC fit, its scores, its blend."""
    import numpy as np
    import tensorflow as tf

    from movie_genre.modeling.layers import blend
    from movie_genre.modeling.wide import LINEAR, build_wide, fit_linear, fit_svm, idf, ngram_vocabulary, tf_idf

    rng = np.random.default_rng(16)
    words = np.array(_words(rng, 300))
    sentences = [" ".join(rng.choice(words, size=n)) for n in rng.integers(1, 120, size=texts)]
    ngrams, held = ngram_vocabulary(sentences[:-20], 5000)  # the last 20 hold n-grams it lacks
    yield _line(f"wide idf of {len(ngrams)} n-grams", idf(held, texts - 20))
    model = build_wide(ngrams, idf(held, texts - 20), genres)
    linear = model.get_layer(LINEAR)
    features = tf_idf(model, sentences)
    yield _line(f"wide tf-idf of {texts} texts", features.indices, features.values)
    labels = rng.integers(0, genres, size=texts)
    row_weights = rng.integers(1, 9, size=texts) * 0.25
    for step, loss in enumerate(fit_linear(linear, features, labels, row_weights, 1e-3, 3)):
        yield _line(f"wide fitting step {step} loss", loss)
        yield _line(f"wide fitting step {step} weights", *linear.weights)
    linear.set_weights(fit_svm(features, labels, genres, 0.3, 42))
    yield _line("wide linear svc fit", *linear.weights)
    scores = model(tf.constant(sentences))
    yield _line("wide scores", scores)
    members = _exact((texts, genres), 17) ** 2 + 2.0**-10
    yield _line("wide blend", blend(members / tf.reduce_sum(members, axis=1, keepdims=True), scores, 0.7, 1.9))


def _text_model_forward(batch, dim, units, genres) -> str:
    """The saved model's forward pass on raw texts (cleaning, vocabulary, two members, one with
    attention pooling, their average, a wide path, the blend at two scales) from exact weights."""
    import numpy as np

    from movie_genre.modeling.build import build_classifier, build_text_model
    from movie_genre.modeling.saving import predict_texts
    from movie_genre.modeling.wide import LINEAR, build_wide, idf

    rng = np.random.default_rng(15)
    vocabulary = _words(rng, 3000)[:2998]
    stopwords = ["the", "a", "of", "and", "in"]
    base = dict(embedding_dim=dim, embedding_trainable=True, dropout=0.2)
    shapes = ({"lstm_units": units, "bidirectional": True, "pooling": "max_mean"},  # the default member
              {"lstm_units": 16, "bidirectional": False, "pooling": "attention"})  # small: traced fast under QEMU
    members = [build_classifier(len(vocabulary) + 2, genres, {**base, **shape}, name=f"classifier_{i}")
               for i, shape in enumerate(shapes, start=1)]
    for seed, weight in enumerate(w for member in members for w in member.weights):
        weight.assign(_exact(weight.shape, 100 + seed, 2.0**-3))
    wide = build_wide(vocabulary[:2000], idf(np.arange(2000, 0, -1), 4000), genres)
    for seed, weight in enumerate(wide.get_layer(LINEAR).weights):
        weight.assign(_exact(weight.shape, 200 + seed, 2.0**-1))
    model = build_text_model(members, vocabulary, stopwords, [f"g{i}" for i in range(genres)], 30, True, wide,
                             (0.73, 1.37))
    words = np.array(vocabulary + stopwords + ["Unknownword", "x", "1984", "it's", "(????)"])
    plots = [" ".join(rng.choice(words, size=n)) for n in rng.integers(1, 30, size=batch - 4)]
    plots += ["", "the of and", "1984, 2001!", " ".join(rng.choice(words, size=100))]  # the last cut to 30 words
    titles = [" ".join(rng.choice(words, size=n)) for n in rng.integers(0, 4, size=batch)]
    return _line(f"text model forward, {batch} texts", predict_texts(model, plots, titles))


def _training_steps(tag, batch, dim, units, genres, width, steps, names=False):
    """The project's classifier from its seeded initial weights, trained `steps` steps on exact
    batches (`names`: the pretrain stage's, a sigmoid per name and binary cross-entropy)."""
    import keras
    import numpy as np

    from movie_genre.modeling.build import build_classifier
    from movie_genre.modeling.optimizers import training_model
    from movie_genre.modeling.pretrain import pretraining_model

    vocab = 3000
    params = dict(embedding_dim=dim, embedding_trainable=True, dropout=0.2, lstm_units=units, pooling="max_mean",
                  bidirectional=True, optimizer="fused_adam", learning_rate=0.001, lr_schedule="constant",
                  label_smoothing=0.0)
    keras.utils.set_random_seed(42)
    if names:
        classifier, model = pretraining_model(params, vocab, genres, _exact((vocab, dim), 40, 2.0**-3), 2000)
    else:
        classifier = build_classifier(vocab, genres, params, _exact((vocab, dim), 40, 2.0**-3), 2000)
        model = training_model(classifier, params, 100)
    yield _line(f"{tag} classifier initial weights", *classifier.weights)
    rng = np.random.default_rng(13)
    for step in range(steps):
        lengths = rng.integers(1, width + 1, size=batch)  # one width: Keras traces the step once
        ids = np.where(np.arange(width)[None, :] < lengths[:, None], rng.integers(2, vocab, size=(batch, width)), 0)
        labels = keras.utils.to_categorical(rng.integers(0, genres, size=batch), genres)
        if names:  # each text holds one to three names
            labels = np.maximum(labels, (rng.random((batch, genres)) < 2 / genres).astype(np.float32))
        row_weights = (rng.integers(1, 9, size=batch) * 0.25).astype(np.float32)
        loss = model.train_on_batch(ids.astype(np.int32), labels, sample_weight=row_weights, return_dict=True)["loss"]
        yield _line(f"{tag} classifier step {step} loss", np.float32(loss))
        yield _line(f"{tag} classifier step {step} weights", *classifier.weights)


def header() -> list[str]:
    return [f"# cpu: {cpu()}", f"# arithmetic: {runtime.describe()}"]


def first_difference(mine: list[str], reference: list[str], partial: bool = False) -> str | None:
    """The first op whose line differs from the reference's (or is missing), as a sentence; None if all agree.
    `partial`: `mine` is a subset (--default-shapes); the reference's other lines are not asked for."""
    theirs = dict(line.rsplit(None, 1) for line in reference if line and not line.startswith("#"))
    ours = dict(line.rsplit(None, 1) for line in mine if line and not line.startswith("#"))
    for name, value in theirs.items():
        if ours.get(name) != value and not (partial and name not in ours):
            return f"'{name}' is {ours.get(name, 'missing')} here, {value} in the reference"
    extra = [name for name in ours if name not in theirs]
    return f"'{extra[0]}' is not in the reference" if extra else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, metavar="FILE", help="compare with FILE instead of printing")
    parser.add_argument("--arithmetic", choices=runtime.ARITHMETIC, default="portable")
    parser.add_argument("--default-shapes", action="store_true",
                        help="the default params' shapes only: every kind of op (emulated CPUs: scripts/test_cpus.py)")
    args = parser.parse_args()
    runtime.configure(args.arithmetic)
    reference = args.check.read_text(encoding="utf-8").splitlines() if args.check else None
    mine = []
    with runtime.quiet_start_up():
        for line in lines(args.default_shapes):
            mine.append(line)
            # Checking, the first op that differs ends the run: the later ones need not be computed
            if reference is not None and first_difference(mine, reference, partial=True):
                break
    if reference is None:
        print("\n".join(header() + mine))
        return 0
    difference = first_difference(mine, reference, partial=args.default_shapes)
    if difference is None:
        print(f"arithmetic: this CPU computes every op of {args.check} alike"
              + (f" (the {len(mine)} lines of the default shapes)" if args.default_shapes
                 else ": dvc repro makes dvc.lock's bytes"))
        return 0
    made_on = next((line[len("# cpu: "):] for line in reference if line.startswith("# cpu: ")), "unknown")
    print(f"arithmetic: this CPU computes differently from {args.check}: {difference}\n"
          f"  this CPU: {cpu()}\n  {runtime.describe()}\n  the reference's CPU: {made_on}\n"
          "  so dvc repro trains another model than dvc.lock's (docs/reproducibility.md)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
