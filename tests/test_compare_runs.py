"""scripts/compare_runs.py: volatile fields are ignored, every other difference is named."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import compare_runs  # noqa: E402  (a script beside the others, not a package)


def _folder(root: Path, name: str, *, elapsed: float, version: str, fund_use: str, report_time: str) -> Path:
    out = root / name
    (out / "calls").mkdir(parents=True)
    call = {
        "call_id": "C1",
        "facts": {"fund_use": {"value": fund_use, "confidence": 0.9}},
        "analysis": {"pipeline_version": version, "elapsed_s": elapsed, "key": version * 3, "model": "base"},
    }
    (out / "calls" / "C1.json").write_text(json.dumps(call), encoding="utf-8")
    run = {"batch": str(out / "batch"), "out_dir": str(out), "total": 1, "failed": 0, "workers": [{"busy_s": elapsed}]}
    (out / "run.json").write_text(json.dumps(run), encoding="utf-8")
    report = f"<html><style>p{{}}</style><p><b>生成时间</b> {report_time}</p><p><b>程序版本</b> {version}</p><p>{fund_use}</p></html>"
    (out / "report.html").write_text(report, encoding="utf-8")
    return out


def test_volatile_fields_are_ignored(tmp_path, capsys):
    a = _folder(tmp_path, "a", elapsed=1.0, version="0.3.0", fund_use="consumption", report_time="2026-12-01 10:00")
    b = _folder(tmp_path, "b", elapsed=2.5, version="0.4.0", fund_use="consumption", report_time="2026-12-02 11:00")
    assert compare_runs.main([str(a), str(b)]) == 0
    assert capsys.readouterr().out.startswith("identical")


def test_a_changed_fact_is_named_in_the_call_and_the_report(tmp_path, capsys):
    a = _folder(tmp_path, "a", elapsed=1.0, version="0.3.0", fund_use="consumption", report_time="2026-12-01 10:00")
    b = _folder(tmp_path, "b", elapsed=1.0, version="0.3.0", fund_use="real_estate", report_time="2026-12-01 10:00")
    assert compare_runs.main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert 'calls/C1.json: facts.fund_use.value: "consumption" != "real_estate"' in out
    assert "report.html: -consumption" in out and "report.html: +real_estate" in out
