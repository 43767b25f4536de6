"""dvc.yaml's code deps are exactly the project files each stage runs, and the imports form layers."""

import sys

import yaml
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from stage_deps import files_run, imported_names, module_file, stage_modules  # noqa: E402

PROJECT_FILES = sorted(ROOT.glob("movie_genre/**/*.py")) + sorted(ROOT.glob("stages/*.py"))


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_stage_lists_exactly_the_project_files_its_command_runs():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, module in stage_modules(ROOT / "dvc.yaml").items():
        listed = {dep for dep in stages[name]["deps"] if dep.endswith(".py")}
        needed = files_run(module)
        assert not needed - listed, f"{name} runs {sorted(needed - listed)}: `python scripts/stage_deps.py --write`"
        assert not listed - needed, f"{name} never runs {sorted(listed - needed)}: `python scripts/stage_deps.py --write`"


def test_imports_inside_functions_count_too(tmp_path):
    (tmp_path / "stages").mkdir()
    (tmp_path / "movie_genre").mkdir()
    (tmp_path / "stages/a.py").write_text("def main():\n    from movie_genre import b\n")
    (tmp_path / "movie_genre/__init__.py").write_text("")
    (tmp_path / "movie_genre/b.py").write_text("import numpy\nfrom movie_genre.c import thing\n")
    (tmp_path / "movie_genre/c.py").write_text("thing = 1\n")
    assert files_run("stages.a", tmp_path) == {
        "stages/a.py", "movie_genre/__init__.py", "movie_genre/b.py", "movie_genre/c.py"
    }


def test_no_stage_imports_another_stage_and_bench_and_scripts_import_none():
    for path in [*ROOT.glob("stages/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("scripts/*.py")]:
        stages = {name for name in imported_names(path) if name.startswith("stages")}
        assert not stages, f"{path} imports {sorted(stages)}: move the shared code into movie_genre/"


def test_the_library_never_imports_a_stage_and_has_no_import_circle():
    graph = {}
    for path in PROJECT_FILES:
        targets = {module_file(name) for name in imported_names(path)} - {None, path}
        graph[module_name(path)] = {module_name(target) for target in targets}
        if path.is_relative_to(ROOT / "movie_genre"):
            assert not any(t.startswith("stages") for t in graph[module_name(path)]), path
    done, path_now = set(), []

    def visit(node):
        if node in path_now:
            raise AssertionError("import circle: " + " -> ".join(path_now[path_now.index(node):] + [node]))
        if node in done:
            return
        path_now.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        path_now.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
