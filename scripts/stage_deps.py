"""The project's Python files each stage runs, derived from the imports in the code.

    python scripts/stage_deps.py            # per stage: the files dvc.yaml's deps must list
    python scripts/stage_deps.py --write    # put them into dvc.yaml (other deps and comments stay)

A stage runs its entry module and every project module that imports, at the top
or inside a function, transitively.  tests/test_deps.py holds dvc.yaml to this.
"""

import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("movie_genre", "stages")


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The project file of a dotted module name, or None if it is not the project's."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_names(path: Path) -> set[str]:
    """Every module name an `import` or `from ... import` in the file may load (names in `from` too,
    since `from pkg import mod` loads the submodule)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def with_parents(name: str) -> list[str]:
    """Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def files_run(module: str, root: Path = ROOT) -> set[str]:
    """Paths (relative to root) of every project file that running `python -m module` executes."""
    seen, pending = set(), [module]
    while pending:
        for name in with_parents(pending.pop()):
            path = module_file(name, root)
            if path is None or path in seen:
                continue
            seen.add(path)
            pending.extend(imported_names(path))
    return {path.relative_to(root).as_posix() for path in seen}


def stage_modules(dvc_yaml: Path) -> dict[str, str]:
    """Each stage's entry module, from its `python -m MODULE` command."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    return {name: stage["cmd"].split("python -m ", 1)[1].split()[0] for name, stage in stages.items()}


def with_code_deps(dvc_yaml_text: str, modules: dict[str, str], root: Path = ROOT) -> str:
    """dvc.yaml's text with each stage's .py deps replaced by the files its command runs."""
    out, stage, lines, i = [], None, dvc_yaml_text.splitlines(keepends=True), 0
    while i < len(lines):
        heading = re.match(r"^  (\w+):\n$", lines[i])
        stage = heading.group(1) if heading and heading.group(1) in modules else stage
        out.append(lines[i])
        i += 1
        if stage and lines[i - 1] == "    deps:\n":
            while i < len(lines) and re.match(r"^      - \S+\.py\n$", lines[i]):
                i += 1
            out += [f"      - {path}\n" for path in sorted(files_run(modules[stage], root))]
    return "".join(out)


if __name__ == "__main__":
    dvc_yaml = ROOT / "dvc.yaml"
    modules = stage_modules(dvc_yaml)
    if sys.argv[1:] == ["--write"]:
        dvc_yaml.write_text(with_code_deps(dvc_yaml.read_text(encoding="utf-8"), modules), encoding="utf-8")
        sys.exit(0)
    for stage, module in modules.items():
        print(f"{stage}:")
        print("".join(f"  - {path}\n" for path in sorted(files_run(module))), end="")
