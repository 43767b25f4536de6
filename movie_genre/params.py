"""params.yaml, checked before any work: unknown keys (with a did-you-mean), types and ranges.

Each section's schema lives beside the code that reads it (records.PARAMS,
text.PARAMS, ...); this module only knows how to check one.
"""

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml

from movie_genre.config import PARAMS_FILE
from movie_genre.errors import PipelineError


@dataclass(frozen=True)
class Param:
    """What one key of params.yaml may hold: a type and, for numbers, a range."""

    kind: type
    low: float | None = None
    high: float | None = None
    exclusive: bool = False  # open interval (low, high) instead of [low, high]
    choices: tuple = ()

    def problem(self, value) -> str | None:
        # bool is an int in Python; "epochs: true" is still a mistake.
        if isinstance(value, bool) != (self.kind is bool) or not isinstance(value, self.kind):
            if not (self.kind is float and isinstance(value, int) and not isinstance(value, bool)):
                return f"must be {self.allowed()}"
        if self.choices and value not in self.choices:
            return f"must be {self.allowed()}"
        below = self.low is not None and (value <= self.low if self.exclusive else value < self.low)
        above = self.high is not None and (value >= self.high if self.exclusive else value > self.high)
        return f"must be {self.allowed()}" if below or above else None

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        text = {int: "an integer", float: "a number", bool: "true or false", str: "text"}[self.kind]
        if self.low is not None and self.high is not None:
            brackets = "()" if self.exclusive else "[]"
            return f"{text} in {brackets[0]}{self.low}, {self.high}{brackets[1]}"
        if self.low is not None:
            return f"{text} {'>' if self.exclusive else '>='} {self.low}"
        return text


# Keys that were renamed or retired: what to write instead, said when an old params.yaml has them
RETIRED = {
    "train.wide_weight": "the blend of the two paths is fitted on the out-of-fold rows now; write "
                         "'train.wide: linear_svc' (or none: no wide path) instead",
}

RENAMED_VALUES = {  # "section.key": {old value: new value}, said old to new
    "train.encoder": {"word_vectors": "fresh"},
}


def load_params(section: str, schema: dict[str, Param], path: Path = PARAMS_FILE) -> dict:
    """Return one section of params.yaml, checked against `schema` before any work."""
    with open(path, encoding="utf-8") as f:
        params = yaml.safe_load(f) or {}
    values = params.get(section)
    if not isinstance(values, dict):
        raise PipelineError(f"{path}: no '{section}' section; add it (see README, Params)")
    for key in values:
        if key not in schema and f"{section}.{key}" in RETIRED:
            raise PipelineError(f"{path}: '{section}.{key}' is retired: {RETIRED[f'{section}.{key}']}")
        if key not in schema:
            close = difflib.get_close_matches(key, schema, n=1)
            hint = f"did you mean '{section}.{close[0]}'?" if close else f"known keys: {', '.join(schema)}"
            raise PipelineError(f"{path}: unknown param '{section}.{key}'; {hint}")
    for key, renamed in RENAMED_VALUES.items():
        old = values.get(key.partition(".")[2]) if key.startswith(f"{section}.") else None
        if isinstance(old, str) and old in renamed:
            raise PipelineError(f"{path}: '{key}: {old}' is renamed; write '{key}: {renamed[old]}' (the same setting)")
    for key, rule in schema.items():
        if key not in values:
            raise PipelineError(f"{path}: missing param '{section}.{key}'; it {rule.problem(None)}")
        problem = rule.problem(values[key])
        if problem:
            raise PipelineError(f"{path}: '{section}.{key}' is {values[key]!r}; it {problem}")
    return values


