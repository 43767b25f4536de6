"""The wide path at a genuine large vocabulary: fitted on the outside corpus's 67k cleaned texts.

    python -m bench.wide_scale [--out /tmp/wide_scale.keras] [--repeat 3]

The sample's 1,899 fit rows say nothing about how the wide path grows with
real text. The corpus's descriptions are genuine text at 35 times that size: this
fits the wide path on them (default train.* params, n-grams capped at
train.wide_max_ngrams; labels are their source genre names hashed onto the 27
genres, so the figures are for size and speed only, never quality), puts it
into the committed model in place of its own, saves that, and runs
bench.predict on it. Run `dvc repro` first (the corpus stage and the model).
"""

import argparse
import time
import zlib
from pathlib import Path

import numpy as np

from bench import predict
from movie_genre import config, runtime
from movie_genre.modeling.schema import PARAMS
from movie_genre.params import load_params


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wide_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/wide_scale.keras"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    params = load_params("train", PARAMS)
    runtime.configure(params["arithmetic"])
    import pyarrow.parquet as pq

    from movie_genre.modeling.build import build_text_model
    from movie_genre.modeling.saving import load_model, save_model
    from movie_genre.modeling.wide import fit_wide, ngram_vocabulary

    corpus = pq.read_table(config.CORPUS_TEXTS_FILE, columns=["genres", "text"]).to_pydict()
    labels = np.array([zlib.crc32(g.encode()) % 27 for g in corpus["genres"]])
    start = time.perf_counter()
    ngrams = len(ngram_vocabulary(corpus["text"], 10**9)[0])
    counted = time.perf_counter() - start
    start = time.perf_counter()
    wide = fit_wide(params, corpus["text"], labels, 27)
    fitted = time.perf_counter() - start
    kept = len(wide.get_layer("ngram_counts").get_vocabulary()) - 1
    print(f"corpus: {len(labels):,} texts, {ngrams:,} distinct 1-2-grams (counted in {counted:.1f} s); "
          f"the wide path keeps {kept:,} (train.wide_max_ngrams) and was fitted in {fitted:.1f} s")

    model = load_model(config.MODEL_FILE)
    vectorizer = model.get_layer("vectorizer")
    members = [layer for layer in model.layers if layer.name.startswith("classifier")]
    rebuilt = build_text_model(
        members, vectorizer.get_vocabulary()[2:], model.get_layer("cleaner").stopwords,
        model.get_layer("genres").genres, vectorizer.get_config()["output_sequence_length"],
        model.get_layer("text").with_title, wide,
        (model.get_layer("blend").member_scale, model.get_layer("blend").wide_scale),
    )
    save_model(rebuilt, args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB; {config.MODEL_FILE}: "
          f"{config.MODEL_FILE.stat().st_size / 1e6:.1f} MB")
    predict.main(["--model", str(args.out), "--repeat", str(args.repeat)])


if __name__ == "__main__":
    main()
