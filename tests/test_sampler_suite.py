"""Every registered sampler runs the conformance suite in hypersearch.testing.sampler_suite.

A sampler added to the registry is picked up here by itself; one that needs constructor
options to run on the suite's spaces gets them from ``sampler_suite.SAMPLER_OPTIONS``.
"""

from __future__ import annotations

import pytest

from hypersearch.samplers import sampler_names
from hypersearch.testing.sampler_suite import *  # noqa: F403


@pytest.fixture(params=sampler_names(), ids=str)
def sampler_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_suite_covers_every_registered_sampler(request: pytest.FixtureRequest) -> None:
    names = {
        item.callspec.params["sampler_name"]
        for item in request.session.items
        if hasattr(item, "callspec") and "sampler_name" in item.callspec.params
    }
    if names:  # empty when this test is selected on its own
        assert names == set(sampler_names())
