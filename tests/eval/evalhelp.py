"""Helpers of the evaluation tests: optional-package skips (photo loading and weight skips: ``testhelp``)."""

import importlib.util

import pytest


def require_package(module: str) -> None:
    """Skip unless ``module`` is installed (found without importing it: some of these packages' ``__init__``
    import torchvision or MTCNN)."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"optional package '{module}' is not installed (see docs/dependencies.md, 'Evaluation')")
