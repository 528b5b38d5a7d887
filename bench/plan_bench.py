"""`make bench`: the offline plan's cost as flavours grow, against the SDK's own floor.

For each size it builds a scratch project whose image_flavours/ holds that many
copies of the shipped flavours (new names; the shipped applications.yaml and test
files beside them), then runs, in fresh processes and in turn, the plan, the typed
floor and the generic floor (the same resources with the same inputs registered by
a bare program under the same mock engine; see floor_program.py and run_once.py for
what each clock covers), several times each, and reports medians. Then it times the
whole `make plan` command on the shipped stack, with a cold and a warm guardrail
scan cache. Results and how to read them: bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from components.model.loader import NON_FLAVOUR_FILES  # noqa: E402  (the loader's own list: shared files are not flavours)

SIZES = (5, 30, 100, 300)  # 5: one copy of each shipped flavour, the fewest that serve every application
MODES = ("plan", "floor", "generic-floor")


def shipped_flavours() -> list:
    """The shipped flavour files, those built on a marketplace image first: a round of copies cut
    short then still holds the base of every layer it holds."""
    files = sorted(p for p in (REPO / "image_flavours").glob("*.yaml") if p.name not in NON_FLAVOUR_FILES)
    return sorted(files, key=lambda p: bool((yaml.safe_load(p.read_text()).get("base_image") or {}).get("flavour")))


def make_project(folder: Path, count: Optional[int] = None, distinct: bool = False) -> None:
    """A project like this checkout; with count, image_flavours/ holds that many renamed copies.

    distinct: each copy also gets a tag and a test suite of its own, so that nothing rendered or
    scanned for one flavour can be reused for another (their other steps stay shared).
    """
    shutil.copy(REPO / "__main__.py", folder / "__main__.py")
    for stack_file in REPO.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, folder / stack_file.name)
    (folder / "components").symlink_to(REPO / "components")
    shipped = shipped_flavours()
    flavours = folder / "image_flavours"
    # Everything but the flavours themselves: applications.yaml, the test suites flavours embed.
    skip = {p.name for p in shipped} if count is not None else set()
    shutil.copytree(REPO / "image_flavours", flavours, ignore=lambda _, names: [n for n in names if n in skip])
    names = [yaml.safe_load(path.read_text())["name"] for path in shipped]
    for index in range(count or 0):
        data = yaml.safe_load(shipped[index % len(shipped)].read_text())
        data["name"] = f"{data['name'][:30]}-{index:03d}"
        base = (data.get("base_image") or {}).get("flavour")
        if base in names:
            # A layered flavour is built on the copy of its base from the same round (the first
            # round's when this round is cut short).
            round_start, offset = index - index % len(shipped), names.index(base)
            copy = round_start + offset if round_start + offset < count else offset
            data["base_image"]["flavour"] = f"{base[:30]}-{copy:03d}"
        if distinct:
            data.setdefault("tags", {})["bench-copy"] = f"{index:03d}"
            for use in data["steps"]:
                suite = use.get("image-tests", {}).get("suite") if isinstance(use, dict) else None
                if suite:
                    own = Path(suite).with_name(data["name"] + "".join(Path(suite).suffixes))
                    text = (flavours / suite).read_text() + f"# {data['name']}\n"
                    (flavours / own).write_text(text)
                    use["image-tests"]["suite"] = own.as_posix()
        (flavours / f"{data['name']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def child_env(bytecode: bool) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if bytecode:
        # As on a developer's machine: modules compiled once, then loaded from __pycache__.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(args: list, env: dict) -> dict:
    result = subprocess.run([sys.executable, str(REPO / "bench" / "run_once.py"), *args],
                            capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed: {' '.join(args)}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def size_row(size: int, runs: int, stack: str, env: dict, distinct: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, size, distinct)
        plan_file = root / "plan.json"
        common = ["--root", str(root), "--stack", stack, "--plan-file", str(plan_file)]
        found: dict = {mode: [] for mode in MODES}
        # In turn, so that a change in machine load hits every column alike.
        for _ in range(runs):
            for mode in MODES:
                found[mode].append(measure([mode, *common], env))
    resources = found["plan"][0]["resources"]
    for mode in MODES[1:]:
        if any(r["resources"] != resources or not r["same_as_plan"] for r in found[mode]):
            raise SystemExit(f"{size} flavours: the {mode} did not register the plan's resources and inputs")
    row = {"flavours": size, "resources": resources, "per_flavour": resources / size}
    for mode in MODES:
        key = mode.replace("-", "_")
        row[f"{key}_s"] = statistics.median(r["seconds"] for r in found[mode])
        row[f"{key}_runs"] = [round(r["seconds"], 2) for r in found[mode]]
        row[f"{key}_peak_mib"] = max(r["peak_mib"] for r in found[mode])
    row["ratio"] = row["plan_s"] / row["floor_s"]
    row["generic_ratio"] = row["plan_s"] / row["generic_floor_s"]
    return row


def make_plan_wall(runs: int, stack: str, env: dict) -> dict:
    """Wall time of the whole `make plan` command (`python -m components.plan --stack <stack>`) on the
    shipped flavours: interpreter start and exit, plan, summary, plan file and guardrails.

    cold: a fresh project folder each run, so build/cache/secret-scan.json is absent, as on a fresh
    clone or a CI runner. warm: the same folder again, the cache written by the run before.
    """
    def timed(root: Path) -> float:
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "components.plan", "--stack", stack, "--root", str(root)],
                                cwd=REPO, capture_output=True, text=True, check=False, env=env)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"make plan failed:\n{result.stderr}")
        return elapsed

    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root)
            cold.append(timed(root))
            warm.append(timed(root))
    return {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm),
            "cold_runs": [round(s, 2) for s in cold], "warm_runs": [round(s, 2) for s in warm]}


def machine(bytecode: bool) -> str:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.machine()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"bytecode cache {'on' if bytecode else 'off'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per plan and floor figure (median)")
    parser.add_argument("--wall-runs", type=int, default=7, help="runs per make plan figure (median)")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as set: every run compiles the project's modules")
    parser.add_argument("--distinct", action="store_true",
                        help="copies with a tag and a test suite of their own (see make_project)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    env = child_env(bytecode=not args.no_bytecode_cache)
    bytecode = not env.get("PYTHONDONTWRITEBYTECODE")

    print(f"machine: {machine(bytecode)}; medians of {args.runs} runs (make plan: {args.wall_runs})", flush=True)
    # One untimed plan first: compiled modules and the OS file cache as any later run finds them.
    with tempfile.TemporaryDirectory() as tmp:
        make_project(Path(tmp), len(shipped_flavours()))
        measure(["plan", "--root", tmp, "--stack", args.stack, "--plan-file", str(Path(tmp) / "plan.json")], env)
    rows = []
    for size in args.sizes:
        rows.append(size_row(size, args.runs, args.stack, env, args.distinct))
        row = rows[-1]
        print(f"  {size} flavours: plan {row['plan_runs']} s, floor {row['floor_runs']} s, "
              f"generic floor {row['generic_floor_runs']} s", file=sys.stderr, flush=True)
    wall = make_plan_wall(args.wall_runs, args.stack, env)
    print(f"  make plan ({args.stack}): cold {wall['cold_runs']} s, warm {wall['warm_runs']} s", file=sys.stderr)

    if rows:
        print()
        print("| flavours | resources | per flavour | plan s | floor s | ratio | generic floor s | ratio to generic "
              "| plan peak MiB | floor peak MiB |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print(f"| {row['flavours']} | {row['resources']} | {row['per_flavour']:.1f} | {row['plan_s']:.2f} | "
                  f"{row['floor_s']:.2f} | {row['ratio']:.2f} | {row['generic_floor_s']:.2f} | "
                  f"{row['generic_ratio']:.2f} | {row['plan_peak_mib']:.0f} | {row['floor_peak_mib']:.0f} |")
    print()
    print(f"`python -m components.plan --stack {args.stack}` (all of `make plan`), wall: {wall['warm_s']:.2f} s "
          f"with a warm guardrail scan cache, {wall['cold_s']:.2f} s with a cold one")

    by_size = {row["flavours"]: row for row in rows}
    checks = []
    if 100 in by_size:
        checks.append(("ratio to the floor at 100 flavours <= 2.0", by_size[100]["ratio"] <= 2.0,
                       f"{by_size[100]['ratio']:.2f}"))
    if 300 in by_size:
        checks.append(("ratio to the floor at 300 flavours <= 1.5", by_size[300]["ratio"] <= 1.5,
                       f"{by_size[300]['ratio']:.2f}"))
        checks.append(("plan peak memory at 300 flavours < 1 GiB", by_size[300]["plan_peak_mib"] < 1024,
                       f"{by_size[300]['plan_peak_mib']:.0f} MiB"))
    if 100 in by_size and 300 in by_size:
        growth = by_size[300]["plan_s"] / by_size[100]["plan_s"]
        checks.append(("plan at 300 flavours <= 3.3 x plan at 100", growth <= 3.3, f"{growth:.2f} x"))
    checks.append((f"shipped {args.stack} stack, make plan < 3 s (warm scan cache)", wall["warm_s"] < 3.0,
                   f"{wall['warm_s']:.2f} s"))
    print()
    for label, ok, value in checks:
        print(f"{'met   ' if ok else 'MISSED'} {label}: {value}")
    print(f"info   shipped {args.stack} stack, make plan with a cold scan cache: {wall['cold_s']:.2f} s")
    for size in (100, 300):
        if size in by_size:
            print(f"info   ratio to the generic floor at {size} flavours: {by_size[size]['generic_ratio']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(bytecode), "runs": args.runs, "rows": rows,
                                               "make_plan": wall}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
