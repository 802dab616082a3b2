"""huifang: speech analytics for post-loan follow-up calls (贷后回访)."""

__version__ = "0.3.0"
