"""A safe YAML loader for experiment files: no duplicate keys, ``1e-3`` is a number, and every
value keeps the line it came from, so validation errors can point at it.

PyYAML alone gets three things wrong for configuration files: a repeated key silently wins,
``1e-3`` (no dot) is read as the *string* ``"1e-3"`` (YAML 1.1), and ``yes`` / ``no`` / ``on``
/ ``off`` become booleans (a choice ``[on, off]`` would turn into ``[True, False]``). Here only
``true`` / ``false`` are booleans, any float literal is a float, and duplicates are errors.

>>> doc = load_yaml("lr: 1e-3\\nsteps: 10\\n", source="exp.yaml")
>>> doc.data, doc.line(("steps",))
({'lr': 0.001, 'steps': 10}, 2)
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hypersearch.exceptions import HypersearchError

__all__ = ["ConfigError", "YAMLDocument", "load_yaml", "load_yaml_file"]

Path_ = tuple[Any, ...]


class ConfigError(HypersearchError, ValueError):
    """A configuration file is not valid YAML or breaks its schema; says where (file:line)."""

    def __init__(self, message: str, *, source: str = "<string>", line: int | None = None):
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like scalars: only true/false are booleans, 1e-3 is a float."""


# Replace the implicit resolvers for bool and float (keep int, null, timestamps as strings...).
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


@dataclass
class YAMLDocument:
    """Plain Python data (dicts, lists, scalars) plus the 1-based line of every node, keyed by
    its path from the root (``("space", "lr", "low")``; list items by index)."""

    data: Any
    source: str = "<string>"
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, else of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, path: Path_, message: str) -> ConfigError:
        return ConfigError(message, source=self.source, line=self.line(path))


def load_yaml(text: str, *, source: str = "<string>") -> YAMLDocument:
    """Parse one YAML document safely (see the module doc); an empty file is ``None``."""
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
            raise ConfigError(f"invalid YAML: {problem}", source=source, line=line) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}", source=source) from None
        doc = YAMLDocument(data=None, source=source)
        if root is not None:
            doc.data = _convert(loader, root, (), doc)
        return doc
    finally:
        loader.dispose()


def load_yaml_file(path: str | Path) -> YAMLDocument:
    """Read and parse a YAML file; errors name the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", source=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", source=str(p)) from None
    return load_yaml(text, source=str(p))


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _convert(loader: _Loader, node: yaml.Node, path: Path_, doc: YAMLDocument) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    expected = {yaml.MappingNode: _MAP, yaml.SequenceNode: _SEQ}.get(type(node))
    if expected is not None and node.tag != expected:
        raise ConfigError(
            f"invalid value: the tag {node.tag!r} is not allowed (plain YAML data only)",
            source=doc.source,
            line=node.start_mark.line + 1,
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # merge keys (<<: *anchor)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _convert(loader, key_node, (*path, "<key>"), doc)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable) or isinstance(key, list | dict):
                raise ConfigError(
                    f"a mapping key must be a scalar, got {key!r}", source=doc.source, line=line
                )
            if key in out:
                first = doc.lines.get((*path, key))
                raise ConfigError(
                    f"duplicate key {key!r} (first defined on line {first}); keep one",
                    source=doc.source,
                    line=line,
                )
            doc.lines[(*path, key)] = line
            out[key] = _convert(loader, value_node, (*path, key), doc)
            doc.lines[(*path, key)] = line  # the key's line, not its value's
        doc.lines.pop((*path, "<key>"), None)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), doc) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(
            f"invalid value: {exc.problem}", source=doc.source, line=node.start_mark.line + 1
        ) from None
