"""Lazy exports for the stage packages: ``import pipeline.facts`` stays cheap until an entry point is used.

A stage's entry point pulls in its whole stage (Whisper, scikit-learn); a
package that imported it eagerly would load them for anyone importing one
small module of that package. ``tests/test_layout.py`` reads the module names
given here as imports of the package, so a cycle through them still fails.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_exports(package: str, modules: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``modules[name]`` on first use."""

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(modules[name]), name)

    return __getattr__
