"""The reviewers' workbench: a local web application over the nightly outputs and the history database.

Reviewers confirm or dismiss flags, correct facts, note and set a status; every
decision is an append-only record in the history database (``store``), the
machine's output files are never rewritten, and reviewed copies of the report
and workbook are written beside them (``overlay``). ``stats`` measures the
machine against the reviewers; ``retrain`` turns corrections into training data.
"""
