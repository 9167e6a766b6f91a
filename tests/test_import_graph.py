"""The modules of hypersearch import each other without a cycle (issue 20), read with ``ast``.

An edge ``a -> b`` is an import statement in ``a`` that runs (at module level or inside a
function) and names ``b``; imports under ``if TYPE_CHECKING:`` are annotations only and do
not count. ``from pkg import name`` is an edge to the submodule ``pkg.name`` when there is
one, else to ``pkg``. The parents a submodule import initialises first (``hypersearch`` for
``hypersearch.trial``) are not edges: Python runs them before the child either way. Nothing
is imported to build the graph, so the test also runs where optional extras are missing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Lower layers: what the study hands things to. They never import the study or the
#: ``hypersearch`` package (whose ``__init__`` imports the study) at run time.
LOWER_LAYERS = (
    "hypersearch.samplers",
    "hypersearch.schedulers",
    "hypersearch.storage",
    "hypersearch.trial",
    "hypersearch.checkpoints",
    "hypersearch.progress",
)
UPPER = ("hypersearch", "hypersearch.study")


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``path:line``."""

    source: str
    target: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}  ({self.path}:{self.line})"


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (its folder ``root / package``) by dotted name."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree`` that run: all but the body of ``if TYPE_CHECKING:``
    (its ``else:`` runs)."""
    stack: list[ast.AST] = [tree]  # depth first, in the order of the source
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(reversed(node.orelse))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _owner(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module that defines ``name``: itself, else its longest prefix that is a module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_edges(root: Path, package: str) -> list[Edge]:
    """Every runtime import from a module of ``package`` to another one."""
    modules = modules_of(root, package)
    edges = []
    for module, path in modules.items():
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [_owner(alias.name, modules) for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the package, ``level - 1`` folders up
                    anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in modules else _owner(base, modules)
                    targets.append(target)
            edges += [
                Edge(module, t, path.relative_to(root.parent), node.lineno)
                for t in dict.fromkeys(targets)  # one edge per statement and target
                if t is not None and t != module
            ]
    return edges


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}  # visiting order
    low: dict[str, int] = {}  # the earliest module on the stack reachable from here
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)

    for root in sorted(graph):  # depth first without recursion: a path may be long
        if root in index:
            continue
        visit(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    visit(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
                if low[v] == index[v]:  # v roots a component: pop it
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def describe(components: list[list[str]], edges: Iterable[Edge]) -> str:
    """Each cycle's modules, then the imports that close it (both ends inside it)."""
    edges = list(edges)
    lines = []
    for component in components:
        inside = set(component)
        lines.append(f"cycle of {len(component)} modules: {', '.join(component)}")
        lines += [
            f"    {e}" for e in sorted(edges, key=str) if e.source in inside and e.target in inside
        ]
    return "\n".join(lines)


# the graph of hypersearch ------------------------------------------------------------------
def test_hypersearch_modules_import_each_other_without_a_cycle() -> None:
    edges = import_edges(SRC, "hypersearch")
    assert len(edges) > 100  # the walker found the package (it has a few hundred imports)
    found = cycles(edges)
    assert not found, "runtime import cycles:\n" + describe(found, edges)


def test_lower_layers_never_import_the_study_or_the_package() -> None:
    """Samplers, schedulers, storage, trial, checkpoints and progress are handed what they
    need; importing ``hypersearch.study`` or ``hypersearch`` from them would reach back up."""
    up = [
        e
        for e in import_edges(SRC, "hypersearch")
        if any(e.source == m or e.source.startswith(m + ".") for m in LOWER_LAYERS)
        and (e.target in UPPER or e.target.startswith("hypersearch.study."))
    ]
    assert not up, "lower layers importing upward:\n" + "\n".join(map(str, up))


def private_imports(root: Path, package: str) -> list[str]:
    """Imports of a private name from another package: an underscore name of a module
    (``from pkg.m import _x``) or a private module (``pkg._m``) used outside ``pkg``. Each
    as ``path:line: what``; modules of one package may share private names."""
    modules = modules_of(root, package)
    found = []
    for module, path in modules.items():
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                parts = name.split(".")
                private = [i for i, p in enumerate(parts) if p.startswith("_") and p[:2] != "__"]
                if not name.startswith(package + ".") or not private:
                    continue
                owner = ".".join(parts[: private[0]])  # where the private part lives
                if owner in modules and modules[owner].name != "__init__.py":
                    owner = owner.rpartition(".")[0]  # a module's name: its package
                if owner != here:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}")
    return found


def test_no_module_imports_a_private_name_from_another_package() -> None:
    """A private module (``tools._torch``) or underscore name serves its own package; other
    packages use a public name that does the job (issue 20: no executor reaching into the
    study's private parts)."""
    found = private_imports(SRC, "hypersearch")
    assert not found, "private names imported from another package:\n" + "\n".join(found)


# the walker itself, on a small package written here -----------------------------------------
def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_walker_finds_a_cycle_through_functions_and_relative_imports(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.a import A\n",
            "pkg/a.py": "from . import b\nA = 1\n",
            "pkg/b.py": "def f():\n    from .sub.c import C\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "import pkg.a\nC = 2\n",
            "pkg/d.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.a import A\nelse:\n    import pkg.e\n"
            ),
            "pkg/e.py": "import typing\nif typing.TYPE_CHECKING:\n    import pkg.d\n",
        },
    )
    edges = import_edges(tmp_path, "pkg")
    pairs = {(e.source, e.target) for e in edges}
    assert ("pkg.a", "pkg.b") in pairs  # `from . import b`: the submodule, not the package
    assert ("pkg.b", "pkg.sub.c") in pairs  # inside a function, relative two parts deep
    assert ("pkg.d", "pkg.e") in pairs and ("pkg.d", "pkg.a") not in pairs  # else: runs
    assert ("pkg.e", "pkg.d") not in pairs  # typing.TYPE_CHECKING: annotations only
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    message = describe(cycles(edges), edges)
    assert "pkg.sub.c -> pkg.a  (" in message and "pkg/sub/c.py:1)" in message
    assert "pkg.__init__" not in message and "pkg.d" not in message


def test_the_walker_counts_a_name_from_a_package_init_as_an_edge_to_it(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.study import Study\n",
            "pkg/study.py": "from pkg.low import helper\nclass Study: ...\n",
            "pkg/low.py": "def helper():\n    from pkg import Study\n",
        },
    )
    edges = import_edges(tmp_path, "pkg")
    assert cycles(edges) == [["pkg", "pkg.low", "pkg.study"]]


def test_private_imports_are_found_across_packages_only(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "_x = 1\ny = 2\n",
            "pkg/b.py": "from pkg.a import _x, y\nfrom . import _helpers\n",  # one package
            "pkg/_helpers.py": "",
            "pkg/sub/__init__.py": "from ._own import z\n",
            "pkg/sub/_own.py": "z = 1\n",
            "pkg/sub/c.py": "from .. import a, _helpers\nfrom pkg.a import _x\n",
            "pkg/d.py": "def f():\n    import pkg.sub._own\n",
        },
    )
    found = private_imports(tmp_path, "pkg")
    assert [f.split(": ")[1] for f in found] == ["pkg.sub._own", "pkg._helpers", "pkg.a._x"]
    assert found[0].endswith("pkg/d.py:2: pkg.sub._own")


@pytest.mark.parametrize("n", [1, 2, 5000])
def test_tarjan_finds_a_ring_of_any_length(n: int) -> None:
    ring = [Edge(f"m{i}", f"m{(i + 1) % n}", Path("x.py"), i) for i in range(n)]
    assert cycles(ring) == ([] if n == 1 else [sorted(f"m{i}" for i in range(n))])
    chain = [Edge(f"m{i}", f"m{i + 1}", Path("x.py"), i) for i in range(n)]
    assert cycles(chain) == []
