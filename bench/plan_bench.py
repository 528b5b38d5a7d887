"""`make bench`: the offline plan's cost as flavours grow, against the SDK's own floor.

For each size it builds a scratch project whose image_flavours/ holds that many
copies of the shipped flavours (new names), then runs the plan and the floor
(the same resources with the same inputs, registered by a bare program under
the same mock engine) several times each in fresh processes and reports medians.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SIZES = (3, 30, 100, 300)


def make_project(folder: Path, count: int) -> None:
    shutil.copy(REPO / "__main__.py", folder / "__main__.py")
    for stack_file in REPO.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, folder / stack_file.name)
    (folder / "components").symlink_to(REPO / "components")
    flavours = folder / "image_flavours"
    flavours.mkdir()
    shipped = sorted(p for p in (REPO / "image_flavours").glob("*.yaml") if p.name != "applications.yaml")
    for index in range(count):
        source = shipped[index % len(shipped)]
        data = yaml.safe_load(source.read_text())
        data["name"] = f"{data['name'][:30]}-{index:03d}"
        (flavours / f"{data['name']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def measure(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, str(REPO / "bench" / "run_once.py"), *args],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed: {' '.join(args)}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def shipped_dev_wall(runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "components.plan", "--stack", "dev", "--quiet",
                        "--out", str(Path(tempfile.gettempdir()) / "bench-dev.json")],
                       cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
          f"runs per figure: {args.runs} (median)")
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root, size)
            plan_file = root / "plan.json"
            plans = [measure(["plan", "--root", str(root), "--stack", args.stack, "--out", str(plan_file)])
                     for _ in range(args.runs)]
            floors = [measure(["floor", "--root", str(root), "--stack", args.stack, "--plan-file", str(plan_file)])
                      for _ in range(args.runs)]
        plan_s = statistics.median(p["seconds"] for p in plans)
        floor_s = statistics.median(f["seconds"] for f in floors)
        resources = plans[0]["resources"]
        if floors[0]["resources"] != resources:
            raise SystemExit(f"floor registered {floors[0]['resources']} resources, plan {resources}")
        rows.append({
            "flavours": size, "resources": resources, "per_flavour": resources / size,
            "plan_s": plan_s, "floor_s": floor_s, "ratio": plan_s / floor_s,
            "plan_peak_mib": max(p["peak_mib"] for p in plans), "floor_peak_mib": max(f["peak_mib"] for f in floors),
        })
        row = rows[-1]
        print(f"  measured {size} flavours", file=sys.stderr)

    header = "| flavours | resources | per flavour | plan s | floor s | ratio | plan peak MiB | floor peak MiB |"
    print(header)
    print("|" + "---|" * 8)
    for row in rows:
        print(f"| {row['flavours']} | {row['resources']} | {row['per_flavour']:.1f} | {row['plan_s']:.2f} | "
              f"{row['floor_s']:.2f} | {row['ratio']:.2f} | {row['plan_peak_mib']:.0f} | {row['floor_peak_mib']:.0f} |")
    by_size = {row["flavours"]: row for row in rows}
    checks = []
    if 100 in by_size:
        checks.append(("ratio at 100 flavours <= 2.0", by_size[100]["ratio"] <= 2.0, f"{by_size[100]['ratio']:.2f}"))
    if 300 in by_size:
        checks.append(("ratio at 300 flavours <= 1.5", by_size[300]["ratio"] <= 1.5, f"{by_size[300]['ratio']:.2f}"))
        checks.append(("peak memory at 300 < 1 GiB", by_size[300]["plan_peak_mib"] < 1024, f"{by_size[300]['plan_peak_mib']:.0f} MiB"))
    if 100 in by_size and 300 in by_size:
        growth = by_size[300]["plan_s"] / by_size[100]["plan_s"]
        checks.append(("300 flavours <= 3.3 x 100 flavours", growth <= 3.3, f"{growth:.2f}x"))
    dev = shipped_dev_wall(args.runs)
    checks.append(("shipped dev stack plans in < 3 s", dev < 3.0, f"{dev:.2f} s"))
    print()
    for label, ok, value in checks:
        print(f"{'met   ' if ok else 'MISSED'} {label}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
