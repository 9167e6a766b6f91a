"""Conformance suites that every sampler, scheduler and storage backend must pass.

Each suite is a module of plain pytest test functions taking one fixture; a test module
defines that fixture (parametrised over the backends) and imports the suite's tests.
"""
