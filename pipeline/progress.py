"""The terminal progress bar of ``huifang run`` (rich), fed as calls finish by either engine."""
from __future__ import annotations


class RichProgress:
    """Terminal progress bar: ``start(total)``, ``advance(record)`` per finished call, ``stop()``."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False)
        self._task = None

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task("分析通话", total=total)

    def advance(self, record: dict) -> None:
        from pipeline.outputs.privacy import mask_pii  # a call id shaped like a phone number is shown masked, as everywhere else

        self._progress.update(self._task, advance=1, description=f"分析通话 {mask_pii(record['call_id'])}")

    def stop(self) -> None:
        self._progress.stop()
