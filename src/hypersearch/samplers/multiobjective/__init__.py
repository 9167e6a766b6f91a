"""Samplers for studies with several objectives (and outcome constraints): multi-objective
TPE (``MOTPESampler``) and ParEGO on the Gaussian process (``ParEGOSampler``). ``auto``
chooses between them when a study has several objectives."""

from hypersearch.samplers.multiobjective.parego import ParEGOSampler
from hypersearch.samplers.multiobjective.tpe import MOTPESampler

__all__ = ["MOTPESampler", "ParEGOSampler"]
