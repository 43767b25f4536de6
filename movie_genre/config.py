"""Every path the pipeline reads or writes, relative to the project's root (where dvc.yaml is)."""

from pathlib import Path

PARAMS_FILE = Path("params.yaml")

RAW_DIR = Path("data/raw")
TRAIN_FILE = RAW_DIR / "train_data.txt"
TEST_FILE = RAW_DIR / "test_data_solution.txt"
UNLABELLED_TEST_FILE = RAW_DIR / "test_data.txt"
NLTK_DATA = Path("data/external/nltk_data")
DESCRIPTIONS_FILE = Path("data/external/movie_descriptions/descriptions.tsv")

PARSED_DIR = Path("data/parsed")
REJECTS_FILE = PARSED_DIR / "rejects.jsonl"
CLEANED_DIR = Path("data/cleaned")
TOKENIZED_DIR = Path("data/tokenized")
VOCABULARY_FILE = TOKENIZED_DIR / "vocabulary.txt"
GENRES_FILE = TOKENIZED_DIR / "genres.json"
CORPUS_DIR = Path("data/corpus")
CORPUS_TEXTS_FILE = CORPUS_DIR / "texts.parquet"
WORD_VECTORS_FILE = CORPUS_DIR / "word_vectors.parquet"

MODEL_FILE = Path("models/movie_genre_classification_model.keras")
ENCODER_FILE = Path("models/pretrained_encoder.npz")
MODEL_CARD_FILE = Path("models/MODEL_CARD.md")  # committed: Hugging Face's model card, from metrics/
SERVING_DIR = Path("models/serving")  # the SavedModel, version 1 in 1/ (TensorFlow Serving's layout)

METRICS_DIR = Path("metrics")
PARSE_LEDGER_FILE = METRICS_DIR / "parse.json"
CORPUS_LEDGER_FILE = METRICS_DIR / "corpus.json"
PRETRAIN_FILE = METRICS_DIR / "pretrain.json"
TRAINING_LOG_DIR = METRICS_DIR / "training"
VALIDATION_FILE = TRAINING_LOG_DIR / "validation.json"
METRICS_FILE = METRICS_DIR / "metrics.json"
REPORT_FILE = METRICS_DIR / "classification_report.txt"
CONFUSION_FILE = METRICS_DIR / "confusion.csv"
F1_PLOT_FILE = METRICS_DIR / "per_genre_f1.png"
RELIABILITY_PLOT_FILE = METRICS_DIR / "reliability.png"
BASELINE_FILE = METRICS_DIR / "baseline.json"
BASELINE_PER_GENRE_FILE = METRICS_DIR / "baseline_per_genre.json"
PER_GENRE_FILE = METRICS_DIR / "per_genre.json"
