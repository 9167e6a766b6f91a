"""Name-or-config specs shared by the sampler and scheduler registries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersearch.exceptions import InvalidArgumentError

__all__ = ["parse_spec"]


def parse_spec(
    spec: str | Mapping[str, Any], known: Mapping[str, Any], kind: str, *, none_ok: bool = False
) -> tuple[str, dict[str, Any]]:
    """``"tpe"`` or a stored ``{"name": "tpe", ...}`` config -> (name, options), or a clear
    error listing the ``kind`` names there are."""
    if isinstance(spec, Mapping):
        options = {k: v for k, v in spec.items() if k != "name"}
        name = spec.get("name")
    else:
        options, name = {}, spec
    if not isinstance(name, str) or name not in known:
        names = ", ".join(map(repr, sorted(known)))
        alternatives = f"None or one of {names}" if none_ok else f"one of {names}"
        raise InvalidArgumentError(
            f"Unknown {kind} {name!r}. Use {alternatives}, or pass a {kind.capitalize()} object."
        )
    return name, options
