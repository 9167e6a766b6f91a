"""Run an experiment file: each trial runs the configured command as a child process.

Parameters reach the command as ``--name=value`` arguments (names may hold dashes:
``--batch-size=64``; or ``{name}`` placeholders in the command; ``{python}`` is the Python
running hypersearch), as ``HS_<NAME>`` environment variables (dashes become ``_``), and always
in a JSON file named by ``$HYPERSEARCH_PARAMS_FILE``. The command reports by printing JSON
lines (``{"val_loss": 0.31, "step": 2}``, or ``hypersearch.report(val_loss=0.31, step=2)``),
or the file's ``parse:`` regular expressions read its own output (``Accuracy: 348/360``);
each line with the study's metric is a point of the learning curve (without a step, the n-th
such line is step n, counted from 1), the last one is the result.

A trial the scheduler stops gets SIGTERM (its whole process group), then SIGKILL after
``stop_grace`` seconds, and is STOPPED with its curve kept. A command that exits non-zero,
prints no metric or runs past ``trial_timeout`` is FAILED with the reason. Every trial's
output is kept, bounded to ``max_output`` bytes, in ``<artifacts>/runs/<number>/output.log``,
and its last lines in the trial's ``attrs["output"]``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from hypersearch.exceptions import HypersearchError
from hypersearch.experiment.schema import ExperimentConfig, load_experiment
from hypersearch.study import Study, create_study
from hypersearch.trial import StepOrderWarning, Trial, TrialRecord
from hypersearch.yaml_loader import ConfigError

__all__ = ["CommandObjective", "TrialCommandError", "check_command", "run_experiment"]

logger = logging.getLogger("hypersearch")

#: Characters of a trial's last output kept in its attrs (the log file keeps more).
TAIL_CHARS = 2000
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")


class TrialCommandError(HypersearchError, RuntimeError):
    """The trial's command failed: non-zero exit, no metric printed, or timed out."""


def run_experiment(
    path: str | Path,
    *,
    storage: str | None = None,
    n_trials: int | None = None,
    timeout: float | None = None,
    show_progress: bool | None = None,
    callbacks: Sequence[Callable[[Study, TrialRecord], None]] = (),
) -> Study:
    """Load, validate and run an experiment file; return its study (resumed if it exists).

    ``storage`` (e.g. from ``hypersearch run --storage``) wins over the file's ``storage``,
    then ``$HYPERSEARCH_STORAGE``, then ``sqlite:///hypersearch.db``. ``n_trials`` and
    ``timeout`` override the file's budget; ``callbacks`` (trackers, for instance) receive
    each finished trial.

    >>> study = run_experiment("examples/experiment/experiment.yaml")
    """
    config = load_experiment(path)
    check_command(config)
    url = (
        storage
        or config.storage
        or os.environ.get("HYPERSEARCH_STORAGE")
        or "sqlite:///hypersearch.db"
    )
    goal: dict[str, Any] = (
        {"directions": config.objectives}
        if config.objectives
        else {"direction": config.direction, "metric": config.metric}
    )
    study = create_study(
        config.name,
        space=config.space,
        **goal,
        constraints=config.constraints,
        sampler=config.strategy,  # type: ignore[arg-type]  # a config dict is accepted too
        scheduler=config.scheduler,  # type: ignore[arg-type]
        storage=url,
        seed=config.seed,
        load_if_exists=True,
    )
    budget_trials = n_trials if n_trials is not None else config.n_trials
    budget_time = timeout if timeout is not None else config.timeout
    study.optimize(
        CommandObjective(config),
        n_trials=budget_trials,
        timeout=budget_time,
        max_failures=config.max_failures,
        show_progress=show_progress,
        callbacks=callbacks,
    )
    return study


def check_command(config: ExperimentConfig) -> None:
    """The experiment's workdir exists and its command's program can be found (``--check``
    and every run do this first); a ``ConfigError`` saying which is wrong."""
    if not config.workdir.is_dir():
        raise ConfigError(f"workdir {str(config.workdir)!r} is not a folder", source=config.source)
    program = config.command[0]
    if program.startswith("{python}"):
        return
    found = (
        (config.workdir / program).exists()
        if os.sep in program or "/" in program
        else shutil.which(program) is not None
    )
    if not found:
        raise ConfigError(
            f"command: program {program!r} not found (on PATH, or relative to {config.workdir})",
            source=config.source,
        )


def _env_name(name: str) -> str:
    """``HS_<NAME>``: upper case, a dash as ``_`` (``batch-size`` -> ``HS_BATCH_SIZE``)."""
    return "HS_" + name.upper().replace("-", "_")


def _format(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class _Output:
    """A trial's output: the first half of ``limit`` bytes and the last half go to the log;
    anything between is counted and left out."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115  # closed in close()
        self._head_left = limit // 2
        self._tail: deque[bytes] = deque()
        self._tail_bytes = 0
        self._tail_limit = limit - limit // 2
        self.total = 0
        self.omitted = 0
        self._recent: deque[str] = deque(maxlen=200)

    def add(self, line: bytes) -> None:
        self.total += len(line)
        self._recent.append(line.decode("utf-8", "replace"))
        if self._head_left > 0:
            part = line[: self._head_left]
            self._file.write(part)
            self._head_left -= len(part)
            line = line[len(part) :]
            if not line:
                return
        self._tail.append(line)
        self._tail_bytes += len(line)
        while self._tail_bytes > self._tail_limit and self._tail:
            dropped = self._tail.popleft()
            self._tail_bytes -= len(dropped)
            self.omitted += len(dropped)

    def tail(self, chars: int = TAIL_CHARS) -> str:
        return "".join(self._recent)[-chars:]

    def close(self) -> None:
        if self.omitted:
            self._file.write(f"\n[... {self.omitted} bytes left out ...]\n".encode())
        for chunk in self._tail:
            self._file.write(chunk)
        self._file.close()


def _reader(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    try:
        for line in iter(stream.readline, b""):
            lines.put(line)
    finally:
        stream.close()  # the pipe is ours once the process wrote its last line
        lines.put(None)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


class CommandObjective:
    """The objective of an experiment: runs the command for one trial and reads its metrics."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config

    # preparing the command ---------------------------------------------------------------
    def command_for(self, trial: Trial, params: dict[str, Any], params_file: Path) -> list[str]:
        extra = {
            "python": sys.executable,  # the Python running hypersearch (its virtualenv)
            "params_file": str(params_file),
            "trial": str(trial.number),
            "run_dir": str(params_file.parent),
        }
        used: set[str] = set()

        def sub(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in params:
                used.add(key)
                return _format(params[key])
            return extra.get(key, match.group(0))

        argv = [_PLACEHOLDER.sub(sub, part) for part in self.config.command]
        if "args" in self.config.params_via:
            argv += [f"--{k}={_format(v)}" for k, v in params.items() if k not in used]
        return argv

    def env_for(self, trial: Trial, params: dict[str, Any], params_file: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.config.env)
        env.update(
            {
                "PYTHONUNBUFFERED": "1",  # Python scripts' prints arrive line by line
                "HYPERSEARCH_STUDY": trial.study.name,
                "HYPERSEARCH_TRIAL": str(trial.number),
                "HYPERSEARCH_PARAMS_FILE": str(params_file),
                "HYPERSEARCH_PARAMS": json.dumps(params),
                "HYPERSEARCH_RUN_DIR": str(params_file.parent),
            }
        )
        if "env" in self.config.params_via:
            env.update({_env_name(k): _format(v) for k, v in params.items()})
        return env

    # running ----------------------------------------------------------------------------
    def __call__(self, trial: Trial) -> dict[str, Any]:
        from hypersearch.checkpoints import artifact_root

        config = self.config
        params = trial.params
        run_dir = artifact_root(trial.study) / "runs" / str(trial.number)
        run_dir.mkdir(parents=True, exist_ok=True)
        params_file = run_dir / "params.json"
        params_file.write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
        argv = self.command_for(trial, params, params_file)
        env = self.env_for(trial, params, params_file)
        output = _Output(run_dir / "output.log", config.max_output)
        last: dict[str, Any] = {}
        value: Any = None
        reports = 0  # lines that carried the study's metric: the default step counts them
        reported_at: int | None = None  # the step of the last report
        matched = False  # a line matched the file's parse.regex
        stopping = timed_out = killed = False
        kill_at: float | None = None
        proc: subprocess.Popen[bytes] | None = None
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=config.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: signals reach its children
            )
            assert proc.stdout is not None  # guaranteed by stdout=PIPE
            lines: queue.Queue[bytes | None] = queue.Queue()
            reader = threading.Thread(
                target=_reader, args=(proc.stdout, lines), name="hypersearch-output", daemon=True
            )
            reader.start()
            eof = False
            while not eof or proc.poll() is None:
                now = time.monotonic()
                if (
                    config.trial_timeout is not None
                    and not timed_out
                    and not stopping
                    and now - started > config.trial_timeout
                ):
                    timed_out = True
                    _signal_group(proc, signal.SIGTERM)
                    kill_at = now + config.stop_grace
                if kill_at is not None and now >= kill_at and not killed:
                    killed = True
                    _signal_group(proc, signal.SIGKILL)
                if eof:
                    time.sleep(0.02)
                    continue
                try:
                    line = lines.get(timeout=0.05)
                except queue.Empty:
                    continue
                if line is None:
                    eof = True
                    continue
                output.add(line)
                reported = self._parse(line)
                if reported is None:
                    continue
                metrics, step, from_regex = reported
                matched = matched or from_regex
                last.update(metrics)
                curve = config.reported
                if (
                    any(m in metrics for m in curve)
                    and all(m in last for m in curve)
                    and not stopping
                    and not timed_out
                ):  # (several objectives: the latest of each, once all were printed)
                    value = last[curve[0]] if len(curve) == 1 else {m: last[m] for m in curve}
                    reports += 1
                    at = reports if step is None else step
                    with warnings.catch_warnings():
                        if (
                            len(curve) > 1 and at == reported_at
                        ):  # objectives on lines of their own
                            warnings.simplefilter("ignore", StepOrderWarning)
                        trial.report(value, step=at)
                    reported_at = at
                    if trial.should_stop():
                        stopping = True
                        _signal_group(proc, signal.SIGTERM)
                        kill_at = time.monotonic() + config.stop_grace
            returncode = proc.wait()
        except OSError as exc:
            output.add(f"could not start {argv[0]!r}: {exc}\n".encode())
            returncode = None
            raise TrialCommandError(f"could not start the command {argv!r}: {exc}") from None
        finally:
            if proc is not None and proc.poll() is None:  # interrupted: leave no orphan
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout=min(config.stop_grace, 5.0))
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait()
            output.close()
            trial.set_attr(
                "output",
                {
                    "log": str(output.path),
                    "bytes": output.total,
                    "tail": output.tail(),
                    "returncode": proc.returncode if proc is not None else None,
                    "command": argv,
                },
            )
        return self._result(
            trial, value, last, returncode, stopping, timed_out, killed, output, matched
        )

    def _parse(self, line: bytes) -> tuple[dict[str, Any], int | None, bool] | None:
        """(metrics, step or None, read by parse.regex) from one line of output, or None."""
        parsed = self._parse_json(line)
        if parsed is not None:
            return (*parsed, False)
        if self.config.parse is None:
            return None
        found = self.config.parse.parse(line.decode("utf-8", "replace"))
        return None if found is None else (*found, True)

    def _parse_json(self, line: bytes) -> tuple[dict[str, Any], int | None] | None:
        text = line.strip()
        if not text.startswith(b"{"):
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        step = data.pop("step", None)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            step = None
        metrics = {
            k: float(v)
            for k, v in data.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        return metrics, step

    def _result(
        self,
        trial: Trial,
        value: float | None,
        last: dict[str, Any],
        returncode: int | None,
        stopping: bool,
        timed_out: bool,
        killed: bool,
        output: _Output,
        matched: bool = False,
    ) -> dict[str, Any]:
        metric = self.config.metric
        tail = output.tail(600).rstrip()
        shown = f"; last output:\n{tail}" if tail else "; it printed nothing"
        if self.config.objectives:
            missing = [m for m in self.config.objectives if m not in last]
            if missing and not stopping:
                metric = missing[0]  # what the messages below name
            else:
                value = last.get(metric)
        if stopping:
            how = "killed after the grace period" if killed else "ended on SIGTERM"
            logger.info("Trial %d stopped by the scheduler (%s).", trial.number, how)
            if self.config.objectives:
                return dict(last) if value is not None else {}
            return {metric: value, **{k: v for k, v in last.items() if k != metric}}
        if timed_out:
            raise TrialCommandError(
                f"timed out after {self.config.trial_timeout:g}s (trial_timeout)"
                + (", killed after the grace period" if killed else "")
                + shown
            )
        if returncode:
            if returncode < 0:
                try:
                    name = signal.Signals(-returncode).name
                except ValueError:
                    name = str(-returncode)
                why = f"was killed by signal {name}"
            else:
                why = f"exited with code {returncode}"
            raise TrialCommandError(f"the command {why}{shown}")
        parser = self.config.parse
        if value is None and parser is not None:
            if not matched:
                raise TrialCommandError(
                    f"no line of the output matched parse.regex {parser.describe()}, so no "
                    f"{metric!r} was read: check the pattern against the script's output" + shown
                )
            raise TrialCommandError(
                f"lines matched parse.regex {parser.describe()} but gave no {metric!r} "
                f"(read: {', '.join(sorted(last)) or 'nothing numeric'})" + shown
            )
        if value is None:
            raise TrialCommandError(
                f"the command printed no {metric!r} metric: print one JSON line per report, "
                f'e.g. {{"{metric}": 0.9, "step": 3}}, or call hypersearch.report({metric}=...)'
                + shown
            )
        if self.config.objectives:
            return dict(last)
        if not math.isfinite(value):
            return {metric: value}
        return {metric: value, **{k: v for k, v in last.items() if k != metric}}
