"""Exceptions that carry a message fit for the operator: what failed and where."""
from __future__ import annotations


class HuifangError(Exception):
    """Base class: the CLI prints these as a clean one-line message."""


class ConfigError(HuifangError):
    """A setting has a value we cannot use."""


class ModelError(HuifangError):
    """The speech model is missing, corrupt or cannot be loaded."""


class ManifestError(HuifangError):
    """The batch manifest cannot be read at all (row-level problems are reported per row)."""


class AudioError(HuifangError):
    """A recording cannot be decoded."""
