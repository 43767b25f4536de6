"""The README documents what the code has."""

import re

import yaml
from conftest import ROOT


def test_every_param_has_a_row_in_the_readme_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+\.\w+)` \| `?([^|`]+?)`? \|", readme, flags=re.MULTILINE))
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    expected = {f"{section}.{key}": value for section, values in params.items() for key, value in values.items()}
    assert sorted(rows) == sorted(expected)
    for name, value in expected.items():
        assert yaml.safe_load(rows[name]) == value, name


def headings(path):
    return re.findall(r"^#+ (.+)$", (ROOT / path).read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_the_sections_that_messages_and_comments_point_to_exist():
    for path, section in (("README.md", "Params"), ("README.md", "Input format"), ("docs/experiments.md", "Model choice")):
        assert any(heading.startswith(section) for heading in headings(path)), (path, section)


def test_the_front_page_stays_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").split()) <= 1650  # "about 1,600"
