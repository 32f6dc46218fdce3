"""Helpers the documentation names: :func:`load_joblib`, :func:`load_json`, and the iris sweep.

:func:`write_iris_sweep` writes the documentation's example sweep (it needs
scikit-learn, the ``demo`` extra); ``naklar demo`` runs it from the shell.
"""

from __future__ import annotations

from ._demo import write_iris_sweep
from ._read.loaders import load_joblib, load_json

__all__ = ["load_joblib", "load_json", "write_iris_sweep"]
