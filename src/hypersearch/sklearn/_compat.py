"""The scikit-learn names this package uses, with one clear error when scikit-learn is missing,
and a stand-in for estimator callbacks on scikit-learn releases without them."""

from __future__ import annotations

from typing import Any

try:
    from sklearn import get_config
    from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
    from sklearn.exceptions import FitFailedWarning, NotFittedError
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
    from sklearn.utils import get_tags, indexable
    from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
    from sklearn.utils.metaestimators import _safe_split, available_if
    from sklearn.utils.validation import _check_method_params, check_is_fitted
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'hypersearch.sklearn needs scikit-learn: pip install "hypersearch[sklearn]".'
    ) from exc

try:  # scikit-learn >= 1.9: estimator callbacks (set_callbacks)
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """Stands in for scikit-learn's mixin where callbacks do not exist."""

    def with_callbacks(method: Any) -> Any:
        return method


__all__ = [
    "BaseEstimator",
    "CallbackSupportMixin",
    "FitFailedWarning",
    "MetaEstimatorMixin",
    "MetadataRouter",
    "MethodMapping",
    "NotFittedError",
    "ParameterGrid",
    "ParameterSampler",
    "_check_method_params",
    "_safe_split",
    "available_if",
    "check_cv",
    "check_is_fitted",
    "check_scoring",
    "clone",
    "get_config",
    "get_tags",
    "indexable",
    "is_classifier",
    "process_routing",
    "with_callbacks",
]
