"""Compare two output folders of ``huifang run``, ignoring what changes on every run.

Shows that a change of code kept behaviour: run the same batch with
``--deterministic`` before and after, then

    python scripts/compare_runs.py out/before out/after

prints each difference (call JSON fields, run.json summary fields, rows of
calls.parquet and reviewers.xlsx, the report's visible text) or ``identical``.
Exit status 0 when identical, 1 when not, 2 when a folder is not an output folder.

Ignored as volatile: timings, versions, analysis keys (they hash the
version), run.json's folder paths (the two runs may read the batch from two
checkouts) and worker processes, and the report's generation time and version.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

# Keys whose values differ between two runs of the same code and input: timings, versions, and the
# analysis key (a hash that includes the version).
VOLATILE_KEYS = {"elapsed_s", "pipeline_version", "key", "generated_at", "run_id"}
# run.json also names the folders (two checkouts, two output folders) and the worker processes.
RUN_VOLATILE_KEYS = VOLATILE_KEYS | {"batch", "out_dir", "report", "workers"}
# The report's header names its generation time and the program version, each after its label.
REPORT_VOLATILE_LABELS = ("生成时间", "程序版本")


def strip_volatile(value, volatile: set[str] = VOLATILE_KEYS):
    """``value`` without volatile keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip_volatile(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [strip_volatile(v, volatile) for v in value]
    return value


def differences(a, b, path: str) -> list[str]:
    """Every leaf where ``a`` and ``b`` differ, as ``path: a != b``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(f"{where}: only in {'B' if key not in a else 'A'}")
            else:
                out += differences(a[key], b[key], where)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = [f"{path}: {len(a)} items != {len(b)} items"] if len(a) != len(b) else []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
        return out
    if a != b and not (a != a and b != b):  # NaN equals NaN here
        return [f"{path}: {_short(a)} != {_short(b)}"]
    return []


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def compare_calls(a: Path, b: Path) -> list[str]:
    names_a = {p.name for p in (a / "calls").glob("*.json")}
    names_b = {p.name for p in (b / "calls").glob("*.json")}
    out = [f"calls/{n}: only in {'A' if n in names_a else 'B'}" for n in sorted(names_a ^ names_b)]
    for name in sorted(names_a & names_b):
        left = strip_volatile(json.loads((a / "calls" / name).read_text(encoding="utf-8")))
        right = strip_volatile(json.loads((b / "calls" / name).read_text(encoding="utf-8")))
        out += [f"calls/{name}: {d}" for d in differences(left, right, "")]
    return out


def compare_run_json(a: Path, b: Path) -> list[str]:
    left, right = (strip_volatile(json.loads((x / "run.json").read_text(encoding="utf-8")), RUN_VOLATILE_KEYS) for x in (a, b))
    return [f"run.json: {d}" for d in differences(left, right, "")]


def _table_rows(path: Path) -> dict[str, list[dict]]:
    """Rows of calls.parquet or of each reviewers.xlsx sheet (no column of theirs is volatile)."""
    import pandas as pd

    frames = {"calls.parquet": pd.read_parquet(path)} if path.suffix == ".parquet" else pd.read_excel(path, sheet_name=None)
    tables = {}
    for name, frame in frames.items():
        tables[name] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return tables


def compare_tables(a: Path, b: Path, filename: str) -> list[str]:
    if not (a / filename).is_file() and not (b / filename).is_file():
        return []
    left, right = _table_rows(a / filename), _table_rows(b / filename)
    return [f"{filename}: {d}" for d in differences(left, right, "")]


class _VisibleText(HTMLParser):
    """The text a reader sees, one line per text node (script and style left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        text = data.strip()
        if text and not self._skip:
            self.lines.append(text)


def report_lines(path: Path) -> list[str]:
    parser = _VisibleText()
    parser.feed(path.read_text(encoding="utf-8"))
    lines = parser.lines
    for i, line in enumerate(lines[:-1]):
        if line in REPORT_VOLATILE_LABELS:
            lines[i + 1] = "<volatile>"
    return lines


def compare_report(a: Path, b: Path) -> list[str]:
    import difflib

    if not (a / "report.html").is_file() and not (b / "report.html").is_file():
        return []
    left, right = report_lines(a / "report.html"), report_lines(b / "report.html")
    diff = difflib.unified_diff(left, right, "A/report.html", "B/report.html", n=1, lineterm="")
    return [f"report.html: {line}" for line in list(diff)[2:]]


def compare(a: Path, b: Path) -> list[str]:
    out = compare_calls(a, b) + compare_run_json(a, b)
    out += compare_tables(a, b, "calls.parquet") + compare_tables(a, b, "reviewers.xlsx")
    return out + compare_report(a, b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="first output folder (e.g. the previous release's run)")
    parser.add_argument("b", type=Path, help="second output folder")
    parser.add_argument("--limit", type=int, default=200, help="differences printed at most (all are counted)")
    args = parser.parse_args(argv)
    for folder in (args.a, args.b):
        if not (folder / "calls").is_dir() or not (folder / "run.json").is_file():
            print(f"{folder}: not an output folder of huifang run (no calls/ or run.json)", file=sys.stderr)
            return 2
    found = compare(args.a, args.b)
    if not found:
        print(f"identical: {len(list((args.a / 'calls').glob('*.json')))} calls, run.json, calls.parquet, reviewers.xlsx, report.html")
        return 0
    for line in found[: args.limit]:
        print(line)
    print(f"{len(found)} differences" + (f" ({len(found) - args.limit} not shown)" if len(found) > args.limit else ""))
    return 1


if __name__ == "__main__":
    sys.exit(main())
