"""Gaussian-process Bayesian optimisation: the model (``model``), log-EI (``acquisition``)
and the sampler that puts them together (``sampler``)."""

from hypersearch.samplers.gp.sampler import GPSampler

__all__ = ["GPSampler"]
