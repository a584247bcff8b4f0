"""The package's import graph, read from the source: no import cycles, and the layers of ARCHITECTURE.md hold.

The graph is built with :mod:`ast` from every ``import`` and ``from ... import`` in ``src/headcast`` — at module
level, inside functions and under ``if TYPE_CHECKING:`` alike (a function-level import hides a cycle from the
interpreter, not from the design). Relative imports are resolved against the importing module's package, and
``from package import name`` counts as an import of ``package.name`` when that is a module. Importing
``a.b.c`` is an edge to ``a.b.c`` only: the parent packages' ``__init__`` modules run too, but Python handles a
package whose ``__init__`` is still running, and counting those edges would call every package a cycle.

A cycle is a strongly connected component of more than one module (Tarjan's algorithm).
"""

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "headcast"


def module_files(src: Path = SRC, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name → source file, for every ``.py`` file of the package (``__init__`` names the package)."""
    out: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, files: Mapping[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom, files: Mapping[str, Path]) -> str | None:
    """The absolute module a ``from ... import`` reads from (None when it is outside the package)."""
    if node.level == 0:
        return node.module
    base = importer.split(".")
    if not _is_package(importer, files):
        base = base[:-1]  # a module's relative imports are relative to its package
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base) or None


def _owner(name: str, files: Mapping[str, Path]) -> str | None:
    """The longest prefix of the dotted ``name`` that is one of ``files`` (``a.b.attr`` → ``a.b``)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in files:
            return candidate
    return None


def imports_of(module: str, files: Mapping[str, Path]) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source."""
    tree = ast.parse(files[module].read_text(encoding="utf-8"), filename=str(files[module]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node, files)
            if base is None:
                continue
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
        else:
            continue
        for target in targets:
            owner = _owner(target, files)
            if owner is not None and owner != module:
                found.add(owner)
    return found


def import_graph(files: Mapping[str, Path] | None = None) -> dict[str, set[str]]:
    """Module → the package's modules it imports."""
    files = module_files() if files is None else files
    return {module: imports_of(module, files) for module in files}


def strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph`` (iterative; each component sorted, members of ``graph``)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    work: list[tuple[str, Iterator[str]]] = []  # the DFS path: node and its children not yet looked at

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, iter(sorted(graph.get(node, ())))))

    for root in sorted(graph):
        if root in index:
            continue
        visit(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in graph), None)
            if child is not None:
                if child not in index:
                    visit(child)
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The components of more than one module, each with the edges that close it, largest first."""
    return sorted((c for c in strongly_connected(graph) if len(c) > 1), key=lambda c: (-len(c), c))


def describe(component: list[str], graph: Mapping[str, set[str]]) -> str:
    """``a -> b`` lines of the edges inside one component."""
    members = set(component)
    return "\n".join(f"    {a} -> {b}" for a in component for b in sorted(graph[a] & members))


# ------------------------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Rule:
    """Modules under ``importer`` must not import modules under ``forbidden`` (prefixes of dotted names).

    A module that is itself under ``forbidden`` is not bound by the rule: ``headcast.service.entry`` is part of the
    service, and may import the rest of it.
    """

    importer: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# ARCHITECTURE.md's layers, bottom up (a package can span two: render's raster is low, its views draw an Avatar).
BOTTOM = ("headcast.errors", "headcast.assets", "headcast.geometry")
OPTIONS = ("headcast.options",)
OBSERVATIONS = ("headcast.parsing", "headcast.landmarks", "headcast.headmodel")
STAGES = ("headcast.fitting", "headcast.render", "headcast.texture", "headcast.hair", "headcast.emotion",
          "headcast.export", "headcast.avatar")
PIPELINE = ("headcast.pipeline",)
CONSUMERS = ("headcast.cli", "headcast.service", "headcast.eval")

LAYER_RULES: tuple[Rule, ...] = (
    Rule((*BOTTOM, *OPTIONS, *OBSERVATIONS, *STAGES), (*PIPELINE, *CONSUMERS),
         "the stages are composed by pipeline.py, which cli/service/eval consume, never the other way"),
    Rule(PIPELINE, CONSUMERS, "the composition knows nothing of its consumers"),
    Rule(("headcast.eval",), ("headcast.cli", "headcast.service"), "the evaluation calls the composition, not the CLI"),
    Rule(("headcast.service",), ("headcast.cli", "headcast.eval"), "the service calls the composition, not the CLI"),
    Rule(OBSERVATIONS, STAGES, "parsing, landmarks and head models observe the photo: below fit, texture and hair"),
    Rule(("headcast.hair", "headcast.texture"), ("headcast.eval",),
         "hair and texture read face parsing from headcast.parsing, not from the metrics package"),
    Rule(("headcast.emotion",), ("headcast.eval",), "the emotion evaluation and its classifier live in headcast.eval"),
    Rule(BOTTOM, (*OPTIONS, *OBSERVATIONS, *STAGES), "files, checksums and pure maths are the bottom layer"),
    Rule(("headcast.errors",), ("headcast.assets", "headcast.geometry"), "errors imports nothing of the package"),
    Rule(OPTIONS, ("headcast.assets", "headcast.geometry", *OBSERVATIONS, *STAGES),
         "the options are plain data: the gateway validates forms with them without the numeric stack"),
    Rule(("headcast.service",), ("headcast.service.entry",),
         "serve/worker processes start in the entry module; library modules never import it"),
)
"""The layers of ``../shared/docs/ARCHITECTURE.md`` (lower never imports higher) as rules the graph must obey."""


def violations(graph: Mapping[str, set[str]], rules: tuple[Rule, ...] = LAYER_RULES) -> list[str]:
    """``importer -> imported (why)`` for every edge a rule forbids."""
    out = []
    for module in sorted(graph):
        for rule in rules:
            if not _under(module, rule.importer) or _under(module, rule.forbidden):
                continue
            out.extend(f"{module} -> {target} ({rule.why})" for target in sorted(graph[module])
                       if _under(target, rule.forbidden))
    return out


# -------------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_package_has_no_import_cycle(graph):
    found = cycles(graph)
    report = "\n".join(f"  {' <-> '.join(c)}:\n{describe(c, graph)}" for c in found)
    assert not found, f"import cycles (break each by moving the shared part into a lower module):\n{report}"


def test_the_layers_hold(graph):
    assert violations(graph) == []


def test_every_rule_names_real_modules(graph):
    """A renamed package must not silently switch a rule off."""
    for rule in LAYER_RULES:
        for prefix in (*rule.importer, *rule.forbidden):
            assert any(_under(m, (prefix,)) for m in graph), f"no module under {prefix}"


def test_parsing_sits_below_hair_and_texture(graph):
    assert "headcast.parsing.face" in graph["headcast.hair.analysis"]
    assert not any(_under(m, ("headcast.eval",)) for m in graph["headcast.hair.analysis"])


def _write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return module_files(root, "pkg")


def test_the_graph_sees_function_level_relative_and_submodule_imports(tmp_path):
    files = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from pkg.b import thing\n",
        "pkg/b.py": "from . import c\nthing = 1\n",
        "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import d\n",
        "pkg/sub/__init__.py": "from ..a import f\n",
        "pkg/sub/d.py": "import pkg.a\nimport os\nfrom .. import b as bee\n",
    })
    graph = import_graph(files)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": {"pkg.sub.d"},
        "pkg.sub": {"pkg.a"},
        "pkg.sub.d": {"pkg.a", "pkg.b"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.sub.d"]]


def test_a_new_cycle_fails(graph):
    """Adding one edge from a low module back up to one that imports it makes a component the check reports."""
    broken = {m: set(targets) for m, targets in graph.items()}
    broken["headcast.geometry.camera"].add("headcast.pipeline")
    found = cycles(broken)
    assert any({"headcast.geometry.camera", "headcast.pipeline"} <= set(c) for c in found)
    assert any("headcast.geometry.camera -> headcast.pipeline" in v for v in violations(broken))


def test_tarjan_matches_a_plain_reachability_check():
    """Components from Tarjan equal "a reaches b and b reaches a" on a small graph with nested loops."""
    graph = {"a": {"b"}, "b": {"c", "e"}, "c": {"a", "d"}, "d": {"d"}, "e": {"f"}, "f": {"e", "g"}, "g": set()}

    def reach(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reaches = {n: reach(n) for n in graph}
    expected = {frozenset(m for m in graph if m in reaches[n] and n in reaches[m]) for n in graph}
    assert {frozenset(c) for c in strongly_connected(graph)} == expected
    assert cycles(graph) == [["a", "b", "c"], ["e", "f"]]
