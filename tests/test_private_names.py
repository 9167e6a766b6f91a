"""No module reaches into another package's underscore names.

Privacy is per package: the modules of one subpackage (``study/``, ``storage/``, ...) may use
each other's underscore names, since they are one unit with one owner; a top-level module
(``trial.py``, ``checkpoints.py``, ...) is a package of its own. Across that line, code asks
through public names (``Trial.lease``, ``Study.artifact_dir``, the ``TrialHost`` a study hands
its trials), so a reader can follow a call without going back and forth between layers.

Checked on the source's syntax tree: ``x._name``, ``getattr(x, "_name")`` and
``from hypersearch.m import _name``, where ``x`` is not ``self``/``cls``. An access is the
package's own when ``x`` is annotated with one of its classes, or (no annotation) when one of
its classes or modules defines ``_name``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import hypersearch

ROOT = Path(hypersearch.__file__).parent

#: Underscore names of other libraries that are their documented API.
FOREIGN_API = {
    "_getframe": "sys._getframe: documented CPython API (the caller's frame for a warning)",
    "_mapping": "sqlalchemy Row._mapping: the documented way to read a row as a mapping",
    "_replace": "namedtuple._replace: documented (underscore only to avoid field clashes)",
    "_asdict": "namedtuple._asdict: documented",
    "_fields": "namedtuple._fields: documented",
}

#: (module, name): the few judged exceptions, each with its reason.
ALLOWED = {
    ("integrations/lightning.py", "_checkpoint_connector"): (
        "Lightning builds its full checkpoint in memory only there; probed with getattr, "
        "with a public file-based fallback"
    ),
    ("keras/tuner.py", "_is_compiled"): (
        "Keras releases without the public `compiled` flag keep it only there; probed last"
    ),
    ("sklearn/scoring.py", "_accept_sample_weight"): (
        "scikit-learn scorers say whether they take sample_weight only there; probed, with "
        "the signature as fallback"
    ),
    ("schedulers/base.py", "_hs_hook"): (
        "a marker this module sets on the hook functions it wraps (functions, so no class of "
        "the module declares it)"
    ),
}


@dataclass(frozen=True)
class Access:
    module: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.text}"


def _package(path: Path) -> str:
    """A subpackage's folder, or a top-level module's own name."""
    rel = path.relative_to(ROOT)
    return str(rel.parent) if len(rel.parts) > 1 else str(rel.with_suffix(""))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _modules() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(), str(p)) for p in sorted(ROOT.rglob("*.py"))}


def _definitions(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(class names, underscore names defined here: module-level, class bodies, self/cls.x =)."""
    classes: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            classes.add(node.name)
            for item in node.body:
                targets: list[ast.expr] = []
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.Assign):
                    targets = item.targets
                elif isinstance(item, ast.AnnAssign):
                    targets = [item.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)):
                    continue
                if t.value.id in ("self", "cls"):
                    names.add(t.attr)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return classes, {n for n in names if _private(n)}


def _annotation_names(annotation: ast.expr | None) -> set[str]:
    if annotation is None:
        return set()
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return set()
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)
    }


def _annotations(tree: ast.Module) -> dict[ast.AST, dict[str, set[str]]]:
    """Per function node: its parameters' annotation names."""
    out: dict[ast.AST, dict[str, set[str]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            every += [a for a in (args.vararg, args.kwarg) if a is not None]
            out[node] = {a.arg: _annotation_names(a.annotation) for a in every}
    return out


def _parents(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


@dataclass(frozen=True)
class Index:
    """Per package, the underscore names and classes it defines; per class, its packages."""

    names: dict[str, set[str]]
    classes: dict[str, set[str]]
    class_packages: dict[str, set[str]]


def _index(trees: dict[Path, ast.Module]) -> Index:
    index = Index(defaultdict(set), defaultdict(set), defaultdict(set))
    for path, tree in trees.items():
        classes, names = _definitions(tree)
        index.names[_package(path)] |= names
        index.classes[_package(path)] |= classes
        for c in classes:
            index.class_packages[c].add(_package(path))
    return index


def _imported_package(module: str) -> str | None:
    """The package (as ``_package`` names it) of ``hypersearch.x.y``; None if not found."""
    source = ROOT.parent.joinpath(*module.split("."))
    if source.is_dir():
        return _package(source / "__init__.py")
    if source.with_suffix(".py").exists():
        return _package(source.with_suffix(".py"))
    return None


def accesses_in(tree: ast.Module, module: str, index: Index) -> list[Access]:
    """The reaches into another package's underscore names in ``tree`` (path ``module``)."""
    package = _package(ROOT / module)
    own_names, own_classes = index.names[package], index.classes[package]
    annotations, parents = _annotations(tree), _parents(tree)
    found: list[Access] = []

    def typed_elsewhere(node: ast.AST, name: str) -> bool:
        """``name`` is a parameter annotated with classes of other packages only."""
        while node in parents:
            node = parents[node]
            if node in annotations and name in annotations[node]:
                known = {n for n in annotations[node][name] if n in index.class_packages}
                return bool(known) and not (known & own_classes)
        return False

    def check(node: ast.expr, owner: ast.expr, attr: str) -> None:
        if not _private(attr) or attr in FOREIGN_API or (module, attr) in ALLOWED:
            return
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            return
        typed_here = not (isinstance(owner, ast.Name) and typed_elsewhere(node, owner.id))
        if not typed_here or attr not in own_names:
            found.append(Access(module, node.lineno, ast.unparse(node)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            check(node, node.value, node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            check(node, node.args[0], node.args[1].value)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("hypersearch"):
                continue
            if _imported_package(node.module) == package:
                continue
            if any(_private(alias.name) for alias in node.names):
                found.append(Access(module, node.lineno, ast.unparse(node)))
    return found


def foreign_accesses() -> list[Access]:
    trees = _modules()
    index = _index(trees)
    found: list[Access] = []
    for path, tree in trees.items():
        found += accesses_in(tree, str(path.relative_to(ROOT)), index)
    return found


def test_no_module_reaches_into_another_packages_underscore_names() -> None:
    # e.g. trial.py calling study._sample_one, or the study setting trial._finished
    found = foreign_accesses()
    assert not found, (
        "These reach into another package's underscore names; give the owner a public "
        "name for what is needed (documented as for the study/executors if users need not "
        "see it) and use that:\n" + "\n".join(map(str, found))
    )


def test_the_check_sees_a_reach_across_packages(tmp_path: Path) -> None:
    # The walk itself: a typed parameter of another package's class is caught even when
    # this package happens to define the same underscore name; self and own classes are not.
    source = (
        "from hypersearch.trial import Trial\n"
        "from hypersearch.storage.engine import _private_helper\n"
        "class Mine:\n"
        "    def __init__(self):\n"
        "        self._id = 1\n"
        "    def same(self, other: 'Mine'):\n"
        "        return self._id + other._id\n"
        "    def reach(self, trial: Trial):\n"
        "        return trial._id, getattr(trial, '_attrs')\n"
    )
    found = accesses_in(ast.parse(source), "study/example.py", _index(_modules()))
    assert sorted(a.text for a in found) == [
        "from hypersearch.storage.engine import _private_helper",
        "getattr(trial, '_attrs')",
        "trial._id",
    ]
