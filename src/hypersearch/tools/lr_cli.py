"""``hypersearch lr-find MODULE:FUNCTION``: the range test on what a user's function builds,
its arguments, its printed summary, and ``--study`` (store the curve, enqueue the rate)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.tools.lr_result import LRFinderResult
from hypersearch.tools.lr_run import lr_find


def _load_spec(spec: str) -> Callable[[], Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(
            f"Expected MODULE:FUNCTION (e.g. train:make_lr_find_setup), got {spec!r}."
        )
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(f"Cannot import {module_name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InvalidArgumentError(f"{module_name!r} has no function {attr!r}.")
    return fn


def lr_find_from_spec(spec: str, **kwargs: Any) -> LRFinderResult:
    """Run the range test on what ``MODULE:FUNCTION`` returns: a dict with ``model``,
    ``optimizer``, ``loader`` and ``loss_fn`` (or ``step_fn``), or the tuple
    ``(model, optimizer, loss_fn, loader)``. The CLI's ``hypersearch lr-find`` uses this."""
    made = _load_spec(spec)()
    if isinstance(made, Mapping):
        parts = dict(made)
    elif isinstance(made, tuple | list) and len(made) == 4:
        parts = dict(zip(("model", "optimizer", "loss_fn", "loader"), made, strict=True))
    else:
        raise InvalidArgumentError(
            f"{spec} must return a dict with model, optimizer, loss_fn, loader, or that 4-tuple; "
            f"got {type(made).__name__}."
        )
    missing = [k for k in ("model", "optimizer", "loader") if k not in parts]
    if missing:
        raise InvalidArgumentError(f"{spec} returned no {', '.join(missing)}.")
    return lr_find(
        parts["model"],
        parts["optimizer"],
        parts.get("loss_fn"),
        parts["loader"],
        step_fn=parts.get("step_fn"),
        **kwargs,
    )


def add_cli_arguments(p: Any) -> None:
    """The arguments of ``hypersearch lr-find`` (an argparse parser)."""
    p.add_argument(
        "spec",
        metavar="MODULE:FUNCTION",
        help="a function returning {model, optimizer, loss_fn, loader} (or step_fn), or the "
        "tuple (model, optimizer, loss_fn, loader); importable from here",
    )
    p.add_argument("--start-lr", type=float, default=1e-7, help="first rate (default 1e-7)")
    p.add_argument("--end-lr", type=float, default=10.0, help="last rate (default 10)")
    p.add_argument("--num-iter", type=int, default=100, help="batches at most (default 100)")
    p.add_argument("--mode", choices=("exp", "linear"), default="exp", help="rate schedule")
    p.add_argument("--plot", metavar="PNG", help="write the curve here (needs matplotlib)")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument(
        "--study", metavar="STUDY", help="store the curve with this study and enqueue the rate"
    )


def cli_main(args: Any, storage_url: str) -> int:
    """Run ``hypersearch lr-find``; errors are printed, not raised (exit 1)."""
    try:
        return run_cli(args, storage_url)
    except (HypersearchError, ImportError) as exc:
        from hypersearch.cli_common import scrub  # the storage's password never reaches a log

        print(f"error: {scrub(str(exc), storage_url)}", file=sys.stderr)
        return 1


def _printer() -> Callable[[str], None]:
    """``print``, with long lines wrapped (and indented) to the terminal's width."""
    import textwrap

    from hypersearch.tables import terminal_width

    width = terminal_width(sys.stdout)

    def say(line: str) -> None:
        if width is None or len(line) <= width:
            print(line)
        else:
            print(textwrap.fill(line, width, subsequent_indent="  ", break_long_words=False))

    return say


def run_cli(args: Any, storage: Any = None) -> int:
    """``hypersearch lr-find MODULE:FUNCTION``: run, print the suggestion, write PNG / JSON,
    and with ``--study`` store the curve and enqueue the suggested rate in that study."""
    result = lr_find_from_spec(
        args.spec,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.num_iter,
        mode=args.mode,
    )
    say = _printer()
    say(f"suggestion: {'none' if result.suggestion is None else f'{result.suggestion:.3g}'}")
    say(f"run: {len(result.lrs)} of {result.num_iter} batches; {result.stop_reason}")
    say(f"reason: {result.reason}")
    if result.suggestion is not None:
        space = result.space()
        say(f"search space: hs.Float({space.low:.4g}, {space.high:.4g}, log=True)")
    if args.plot:
        say(f"plot: {result.plot(args.plot)}")
    if args.json:
        result.save_json(args.json)
        say(f"json: {args.json}")
    if args.study:
        from hypersearch.study import load_study

        study = load_study(args.study, storage=storage)
        number = result.attach(study)
        print(f"enqueued trial {number} of study {args.study!r} with lr={result.suggestion:.3g}")
    return 0 if result.suggestion is not None else 1
