"""Errors a person can fix, and how entry points show them."""

import sys


class PipelineError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def run(main, *args) -> None:
    """Run an entry point's main(); a PipelineError becomes one line on stderr and exit 1."""
    try:
        main(*args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
