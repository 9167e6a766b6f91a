"""Adapter plumbing for scikit-learn's own searcher tests (see test_sklearn_search_suite.py).

scikit-learn's test file marks some tests ``thread_unsafe`` (a marker its own configuration
registers); registering it here lets ``--strict-markers`` accept the file. Tests listed in the
adapter's ``OUT_OF_SCOPE`` are skipped with their reason, and those in ``KNOWN_FAILURES`` are
strict expected failures, so a fix shows up as an unexpected pass.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "thread_unsafe: scikit-learn's marker for tests not run in threads"
    )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        classify = getattr(item.module, "classify", None)
        if classify is None:
            continue
        verdict = classify(item)
        if verdict is None:
            continue
        kind, reason = verdict
        if kind == "skip":
            item.add_marker(pytest.mark.skip(reason=f"out of scope: {reason}"))
        else:
            item.add_marker(pytest.mark.xfail(reason=f"known failure: {reason}", strict=True))


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Any:
    # BLAS threads fight over a loaded 2-core machine (10x slower); one is plenty here.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
