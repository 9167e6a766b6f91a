"""Plotly figures of a study for notebooks: the dashboard's charts, computed the same way.

    >>> from hypersearch import plot
    >>> plot.plot_history(study)              # a plotly Figure; Jupyter shows it
    >>> plot.plot_contour(study, "lr", "units")
    >>> plot.pareto_front(study)              # a multi-objective study's trade-off

The analysis charts (importance, parallel coordinates, slices, contour) compare trials on the
dashboard's basis (final values, or values at the highest step enough trials reached in a
Hyperband/ASHA study) with its importance numbers; axes are in each parameter's units on its
own scale; colours span the 5th–95th percentile of the values, brighter is better. When a chart
lacks the trials it needs, the figure says so in an annotation (no exception). Each figure is
drawn from the chart's specification in ``hypersearch.plot.specs`` (``spec_of(study, chart)``),
the very dict the dashboard's charts are drawn from; ``figure(spec)`` draws any. Needs plotly:
``pip install "hypersearch[plot]"``. See docs/interop.md, "Plots in notebooks".
"""

from __future__ import annotations

from hypersearch.plot import pareto_specs, specs
from hypersearch.plot.figures import (
    figure,
    hypervolume_history,
    pareto_front,
    plot_contour,
    plot_history,
    plot_importance,
    plot_learning_curves,
    plot_lr_finder,
    plot_parallel_coordinates,
    plot_slice,
    spec_of,
)
from hypersearch.plot.shared import Compared, compared_values

__all__ = [
    "Compared",
    "compared_values",
    "figure",
    "hypervolume_history",
    "pareto_front",
    "pareto_specs",
    "plot_contour",
    "plot_history",
    "plot_importance",
    "plot_learning_curves",
    "plot_lr_finder",
    "plot_parallel_coordinates",
    "plot_slice",
    "spec_of",
    "specs",
]
