"""The rehearsal of the shipped Linux flavour on a warm root file system cache: total and per step.

Runs `python -m components.rehearse` as CI does (the root file system made beforehand, so
debootstrap is not timed), then prints the total, each action's seconds from the report, and
when the first failing or blocked step was reported after the start of its action.
A benchmark, not a timed test: record the figures in bench/README.md.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLAVOUR, STACK = "ubuntu-2404", "dev"
ARGS = ["--allow-blocked", "--skip",
        "ansible-playbook=its wheels are locked for CPython 3.12; the Debian 12 stand-in has 3.11"]


def main() -> int:
    from components.rehearse.engines import ChrootEngine

    ChrootEngine(ROOT / "build" / "rehearse").ensure_root(print)  # warm the cache outside the timing
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "components.rehearse", "--flavour", FLAVOUR, "--stack", STACK,
                           "--engine", "chroot", *ARGS], cwd=ROOT, capture_output=True, text=True)
    total = time.monotonic() - started
    report = json.loads((ROOT / "build" / "rehearse" / f"{STACK}-{FLAVOUR}.json").read_text())
    print(f"rehearsal of {FLAVOUR} on {os.cpu_count()} cores, warm root cache: {total:.1f}s total, "
          f"exit code {done.returncode}, result {report['result']}")
    for step in report["steps"]:
        print(f"  {step['phase']:<8} {step['name']:<18} {step['status']:<8} {step['seconds']:>6.1f}s")
    first = next((s for s in report["steps"] if s["status"] in ("failed", "blocked")), None)
    if first:
        print(f"first {first['status']} step: {first['name']} ({first['phase']}), reported {first['seconds']:.1f}s "
              "after its start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
