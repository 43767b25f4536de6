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


def test_the_sections_that_messages_point_to_exist():
    headings = re.findall(r"^#+ (.+)$", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    for section in ("Params", "Input format", "Model choice"):
        assert any(heading.startswith(section) for heading in headings), section
