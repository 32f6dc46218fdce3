"""Helpers the documentation names: :func:`load_joblib`, :func:`load_json`."""

from __future__ import annotations

from .loaders import load_joblib, load_json

__all__ = ["load_joblib", "load_json"]
