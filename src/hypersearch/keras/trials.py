"""KerasTuner's ``HyperModel`` and the trials ``tuner.oracle`` shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypersearch.keras.hyperparameters import HyperParameters

__all__ = ["FunctionHyperModel", "HyperModel", "TunerTrial", "trial_view"]


class HyperModel:
    """KerasTuner's ``HyperModel``: override ``build(hp)``, and ``fit(hp, model, *args,
    **kwargs)`` to tune training too (pass ``**kwargs`` on to ``model.fit``: they hold the
    tuner's callback). ``fit`` may return the ``History``, a number (the objective) or a dict
    of metrics."""

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name
        self.tunable = tunable

    def build(self, hp: HyperParameters) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.build(hp) must return a compiled keras.Model."
        )

    def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    def __init__(self, build_model: Callable[[HyperParameters], Any]) -> None:
        super().__init__(name=getattr(build_model, "__name__", None))
        self._build_model = build_model

    def build(self, hp: HyperParameters) -> Any:
        return self._build_model(hp)


@dataclass
class TunerTrial:
    """A trial as KerasTuner shows it: ``trial_id``, ``hyperparameters``, ``score``,
    ``status`` (RUNNING, COMPLETED, STOPPED, FAILED...), ``best_step`` and ``metrics``."""

    trial_id: str
    hyperparameters: HyperParameters
    status: str = "RUNNING"
    score: float | None = None
    best_step: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    _callbacks: list[Any] = field(default_factory=list, repr=False)

    @property
    def number(self) -> int:
        return int(self.trial_id)

    def summary(self) -> None:
        """Print the trial's id, score and hyperparameters."""
        print(f"Trial {self.trial_id} summary ({self.status})")
        print("Hyperparameters:")
        for k, v in self.hyperparameters.values.items():
            print(f"{k}: {v}")
        print(f"Score: {self.score}")


_STATUS = {"COMPLETE": "COMPLETED", "FAIL": "FAILED"}


def trial_view(record: Any) -> TunerTrial:
    state = getattr(record.state, "name", str(record.state))
    curve = dict(record.intermediate or {})
    best_step = None
    if curve and record.value is not None:
        best_step = min(curve, key=lambda s: (abs(curve[s] - record.value), s))
    return TunerTrial(
        trial_id=str(record.number),
        hyperparameters=HyperParameters(values=record.params),
        status=_STATUS.get(state, state),
        score=record.value,
        best_step=best_step,
        metrics=dict(getattr(record, "metrics", {}) or {}),
    )
