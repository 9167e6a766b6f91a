"""Bring studies made by other tools into hypersearch storage, so their history warm-starts ours.

>>> from hypersearch.importers import import_optuna
>>> summaries = import_optuna("sqlite:///optuna.db", storage="sqlite:///hypersearch.db")
"""

from hypersearch.importers.optuna import ImportSummary, import_optuna

__all__ = ["ImportSummary", "import_optuna"]
