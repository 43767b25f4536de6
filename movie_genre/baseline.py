"""The reference model: TF-IDF (word n-grams) + a linear SVM, on the same cleaned text as the LSTM.

Its defaults were chosen by 4-fold cross-validation on the training file
(docs/experiments.md).
"""

from movie_genre.params import Param

PARAMS = {
    "ngram_max": Param(int, low=1, high=3),
    "min_df": Param(int, low=1),
    "C": Param(float, low=0, exclusive=True),
    "class_weight": Param(str, choices=("none", "balanced")),
    "seed": Param(int, low=0),
}


def build_baseline(params: dict):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, params["ngram_max"]), min_df=params["min_df"], sublinear_tf=True),
        LinearSVC(
            C=params["C"],
            class_weight=None if params["class_weight"] == "none" else params["class_weight"],
            random_state=params["seed"],
        ),
    )
