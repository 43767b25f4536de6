"""Write the README's results table from metrics/ (movie_genre/card.py), so it cannot drift.

    python scripts/readme_results.py          # rewrite the table between its markers
    python scripts/readme_results.py --check  # exit 1 if the README's table is not metrics/'s

Run after `dvc repro` has changed metrics/; tests/test_card.py checks it.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movie_genre import config  # noqa: E402
from movie_genre.card import readme_with_results, results_table  # noqa: E402


def expected_readme(root: Path = ROOT) -> tuple[str, str]:
    """The README as it is, and as metrics/ says it should be."""
    def read(path):
        return json.loads((root / path).read_text(encoding="utf-8"))

    ledger = read(config.PARSE_LEDGER_FILE)[config.TEST_FILE.name]
    table = results_table(read(config.METRICS_FILE), read(config.BASELINE_FILE), ledger["rows_accepted"])
    readme = (root / "README.md").read_text(encoding="utf-8")
    return readme, readme_with_results(readme, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if the table differs")
    args = parser.parse_args()
    readme, expected = expected_readme()
    if args.check:
        if readme != expected:
            sys.exit("README.md's results table differs from metrics/: run python scripts/readme_results.py")
        return
    (ROOT / "README.md").write_text(expected, encoding="utf-8")
    print("README.md: results table written from metrics/")


if __name__ == "__main__":
    main()
