"""Prefect flow that retrains the five fact classifiers.

A thin wrapper: all the work is ``pipeline.facts.training.train_all``, which tests
call directly (Prefect's start-up is too slow for the test suite). Run::

    .venv/bin/python -m flows.training [utterances.jsonl] [out_dir]
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from pipeline.facts.training import train_all

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "data" / "training" / "utterances.jsonl"
DEFAULT_OUT = ROOT / "models" / "classifiers"


@task(name="train-fact-classifiers")
def train_classifiers(data_path: Path, out_dir: Path, seed: int, cv_folds: int) -> dict[str, Any]:
    """Cross-validate, fit and save every fact model; returns the metadata written."""
    return train_all(Path(data_path), Path(out_dir), seed=seed, cv_folds=cv_folds)


@flow(name="train-classifiers")
def train_flow(data_path: Path = DEFAULT_DATA, out_dir: Path = DEFAULT_OUT, seed: int = 0,
               cv_folds: int = 5) -> dict[str, Any]:
    """Retrain the classifiers and log the cross-validated macro-F1 of each fact."""
    meta = train_classifiers(Path(data_path), Path(out_dir), seed, cv_folds)
    logger = get_run_logger()
    for fact, info in meta["facts"].items():
        logger.info("%s: cv macro-F1 %s (± %s), held-out macro-F1 %s, %d examples",
                    fact, info.get("cv_macro_f1"), info.get("cv_macro_f1_std"), info.get("heldout_macro_f1"),
                    sum(info["n_per_class"].values()))
    logger.info("models written to %s in %s s", out_dir, meta["train_seconds"])
    return meta


if __name__ == "__main__":
    argv = sys.argv[1:]
    train_flow(Path(argv[0]) if argv else DEFAULT_DATA, Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT)
