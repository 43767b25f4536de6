"""The model card and the README's results table say what metrics/ says."""

import json
import re
import shutil
import subprocess
import sys

import yaml
from conftest import ROOT

from movie_genre import config
from movie_genre.card import FEW_ROWS, RESULTS_END, RESULTS_START, model_card, results_table


def read(path):
    return json.loads((ROOT / path).read_text(encoding="utf-8"))


def committed_card_inputs():
    params = yaml.safe_load((ROOT / config.PARAMS_FILE).read_text(encoding="utf-8"))
    genres = read(config.PARSE_LEDGER_FILE)[config.TRAIN_FILE.name]["genres"]
    return read(config.METRICS_FILE), read(config.BASELINE_FILE), read(config.PER_GENRE_FILE), params, genres


def test_the_committed_model_card_is_the_one_metrics_make():
    card = (ROOT / config.MODEL_CARD_FILE).read_text(encoding="utf-8")
    assert card == model_card(*committed_card_inputs()), "run `dvc repro card`"


def test_the_readme_results_table_is_metrics_and_stands_in_its_first_40_lines():
    result = subprocess.run([sys.executable, "scripts/readme_results.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    top = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    metrics, baseline = read(config.METRICS_FILE), read(config.BASELINE_FILE)
    ledger = read(config.PARSE_LEDGER_FILE)
    rows = {name: ledger[name]["rows_accepted"] for name in ledger}
    for figure in (f"{rows['train_data.txt']:,}", f"{rows['test_data_solution.txt']:,}", "54,214", "54,200"):
        assert figure in top
    assert results_table(metrics, baseline, rows["test_data_solution.txt"]) in top
    for figure in ("test", "member", "wide"):
        assert f"{metrics['test'][f'{figure}_accuracy' if figure != 'test' else 'accuracy']:.4f}" in top
    assert f"{baseline['baseline']['accuracy']:.4f}" in top
    cost = re.search(r"^## Cost\n\n(\|.*\n)+", top, re.M)
    assert cost, "a cost table in the first 40 lines"
    times = re.findall(r"\| ([\d.,]+) (min|s|plots/s) \|", cost.group(0))
    assert len(times) >= 5, cost.group(0)  # each with its unit


def test_the_readme_check_fails_when_metrics_move(tmp_path):
    for path in ("README.md", "scripts/readme_results.py", config.METRICS_FILE, config.BASELINE_FILE,
                 config.PARSE_LEDGER_FILE):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    shutil.copytree(ROOT / "movie_genre", tmp_path / "movie_genre")
    metrics = read(config.METRICS_FILE)
    metrics["test"]["accuracy"] += 0.0001
    (tmp_path / config.METRICS_FILE).write_text(json.dumps(metrics))

    def check():
        return subprocess.run([sys.executable, "scripts/readme_results.py", "--check"], cwd=tmp_path,
                              capture_output=True, text=True)

    assert check().returncode == 1
    subprocess.run([sys.executable, "scripts/readme_results.py"], cwd=tmp_path, check=True, capture_output=True)
    assert check().returncode == 0
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert f"**{metrics['test']['accuracy']:.4f} /" in readme
    assert readme.count(RESULTS_START) == readme.count(RESULTS_END) == 1


def test_the_card_names_the_genres_it_never_gets_right_and_the_rare_ones():
    metrics, baseline, per_genre, params, genres = committed_card_inputs()
    per_genre = {name: dict(row) for name, row in per_genre.items()}
    common = max(genres, key=genres.get)
    per_genre[common]["f1"] = 0.0
    rare = min(genres, key=genres.get)
    genres = {**genres, rare: FEW_ROWS - 1, common: FEW_ROWS}
    card = model_card(metrics, baseline, per_genre, params, genres)
    never = re.search(r"^- Genres never predicted right on test \(F1 0\): (.*)\.$", card, re.M).group(1).split(", ")
    assert common in never and never == sorted(g for g, row in per_genre.items() if row["f1"] == 0)
    few = re.search(rf"^- Genres with under {FEW_ROWS} training rows: (.*)\.$", card, re.M).group(1).split(", ")
    assert rare in few and common not in few
    front = yaml.safe_load(card.split("---\n")[1])  # Hugging Face's metadata block
    [result] = front["model-index"][0]["results"]
    assert {m["type"]: m["value"] for m in result["metrics"] if "args" not in m}["accuracy"] == \
        metrics["test"]["accuracy"]
    assert f"| {common} | {FEW_ROWS:,} |" in card
