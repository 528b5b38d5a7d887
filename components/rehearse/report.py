"""The rehearsal's report: build/rehearse/<stack>-<flavour>.json and a JUnit XML file beside it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional
from xml.etree import ElementTree as ET

STATUSES = ("passed", "failed", "blocked", "skipped")


def result_of(steps: list) -> str:
    return "passed" if all(s["status"] in ("passed", "skipped") for s in steps) else "failed"


def exit_code(steps: list, allow_blocked: bool = False) -> int:
    """0 only when no step failed or was blocked (blocked allowed with --allow-blocked)."""
    statuses = {s["status"] for s in steps}
    if "failed" in statuses:
        return 1
    if "blocked" in statuses and not allow_blocked:
        return 1
    return 0


def build_report(flavour: str, stack: str, engine: str, base: str, stand_in: Optional[str], steps: list) -> dict:
    return {
        "flavour": flavour, "stack": stack, "engine": engine, "base": base, "stand_in": stand_in,
        "result": result_of(steps),
        "steps": [{"name": s["name"], "phase": s["phase"], "status": s["status"], "exit_code": s.get("exit_code"),
                   "seconds": s.get("seconds", 0.0), "log": s.get("log"), "reason": s.get("reason")}
                  for s in steps],
    }


def junit(report: dict) -> ET.ElementTree:
    steps = report["steps"]
    suite = ET.Element("testsuite", {
        "name": f"rehearse {report['stack']}-{report['flavour']}",
        "tests": str(len(steps)),
        "failures": str(sum(s["status"] == "failed" for s in steps)),
        "errors": str(sum(s["status"] == "blocked" for s in steps)),
        "skipped": str(sum(s["status"] == "skipped" for s in steps)),
        "time": f"{sum(s['seconds'] or 0 for s in steps):.1f}",
    })
    props = ET.SubElement(suite, "properties")
    for key in ("engine", "base", "stand_in"):
        ET.SubElement(props, "property", {"name": key, "value": str(report[key] or "")})
    for s in steps:
        case = ET.SubElement(suite, "testcase", {"classname": f"{report['flavour']}.{s['phase']}", "name": s["name"],
                                                 "time": f"{s['seconds'] or 0:.1f}"})
        text = _log(s)
        if s["status"] == "failed":
            ET.SubElement(case, "failure", {"message": s.get("reason") or f"exit code {s['exit_code']}"}).text = text
        elif s["status"] == "blocked":
            ET.SubElement(case, "error", {"type": "blocked", "message": s.get("reason") or "blocked"}).text = text
        elif s["status"] == "skipped":
            ET.SubElement(case, "skipped", {"message": s.get("reason") or "skipped"})
        if text and s["status"] == "passed":
            ET.SubElement(case, "system-out").text = text
    ET.indent(suite)
    return ET.ElementTree(suite)


def _log(step: dict, limit: int = 20000) -> str:
    path = step.get("log")
    if not path or not Path(path).is_file():
        return ""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


def write_report(report: dict, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{report['stack']}-{report['flavour']}"
    json_path, xml_path = folder / f"{stem}.json", folder / f"{stem}.junit.xml"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    junit(report).write(xml_path, encoding="utf-8", xml_declaration=True)
    return json_path, xml_path
