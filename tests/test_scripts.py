"""The README's evidence tables come from these scripts."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from seed_table import table  # noqa: E402


def row(typ, setting, seed, val_acc, name="", param="tokenize.glove_words"):
    return {"Experiment": name, "typ": typ, param: setting, "train.seed": seed,
            "val.accuracy": val_acc, "val.macro_f1": "0.2",
            "test.accuracy": "0.4", "test.macro_f1": "0.1"}


def test_seed_table_averages_each_setting_over_its_experiments_only():
    rows = [
        row("baseline", "100", "42", "0.9"),  # the workspace: a repeat, not a run of its own
        row("branch_commit", "100", "42", "0.5"),
        row("branch_commit", "100", "43", "0.3"),
        row("branch_base", "0", "42", "0.2"),
    ]
    lines = table(rows, "tokenize.glove_words").splitlines()
    assert lines[2].startswith("| 0 | 42 | **0.200** (0.200-0.200)")
    assert lines[3].startswith("| 100 | 42, 43 | **0.400** (0.300-0.500) | **0.200**")
    assert len(lines) == 4


def test_seed_table_keeps_only_the_named_experiments_and_orders_words():
    rows = [
        row("branch_commit", "True", "42", "0.5", "title-s42", "clean.with_title"),
        row("branch_commit", "False", "42", "0.3", "base-s42", "clean.with_title"),
        row("branch_commit", "False", "42", "0.9", "attn-s42", "clean.with_title"),  # another sweep
    ]
    lines = table(rows, "clean.with_title", ("base-", "title-")).splitlines()
    assert lines[2].startswith("| False | 42 | **0.300**")
    assert lines[3].startswith("| True | 42 | **0.500**")
    assert len(lines) == 4


def test_seed_table_groups_by_several_params():
    rows = [
        {**row("branch_commit", "glove", "42", "0.5", param="train.embedding"), "train.members": "1"},
        {**row("branch_commit", "glove", "42", "0.7", param="train.embedding"), "train.members": "5"},
        {**row("branch_commit", "corpus", "42", "0.6", param="train.embedding"), "train.members": "1"},
        row("branch_commit", "corpus", "43", "0.9", param="train.embedding"),  # no train.members column value
    ]
    lines = table(rows, "train.embedding,train.members").splitlines()
    assert lines[0].startswith("| train.embedding / train.members | seeds |")
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| corpus / 1", "| glove / 1", "| glove / 5"]
    assert lines[2].startswith("| corpus / 1 | 42 | **0.600**")
