"""Samplers for studies with several objectives (and outcome constraints): multi-objective
TPE (``MOTPESampler``), ParEGO on the Gaussian process (``ParEGOSampler``) and expected
hypervolume improvement on one GP per objective (``EHVISampler``). ``auto`` chooses among
them when a study has several objectives."""

from hypersearch.samplers.multiobjective.ehvi import EHVISampler
from hypersearch.samplers.multiobjective.parego import ParEGOSampler
from hypersearch.samplers.multiobjective.tpe import MOTPESampler

__all__ = ["EHVISampler", "MOTPESampler", "ParEGOSampler"]
