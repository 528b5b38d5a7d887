"""make rehearse FLAVOUR=<name> [STACK=dev]: a Linux flavour's build, run on this machine.

The flavour's prepared Linux steps (the same scripts, parameters, environment and
order as the cloud's build instance: every step's build, every step's check, then the
image tests) run on a container of the flavour's base image, or on a debootstrap root
file system in a chroot, and the outcome goes to build/rehearse/<stack>-<flavour>.json
and a JUnit XML file beside it. Exit code 0 only when no step failed or was blocked.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

from .engines import EngineError, base_of, choose_engine
from .mounts import MountedError, safe_remove
from .plan import plan_actions
from .progress import make_progress
from .report import build_report, exit_code, write_report
from .source import RehearsalError, load_rehearsal

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make rehearse", description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", required=True)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--engine", choices=["auto", "docker", "podman", "chroot"], default="auto")
    parser.add_argument("--cache", type=Path, action="append", default=[],
                        help="a folder of pinned downloads named by their sha256 (closed networks)")
    parser.add_argument("--allow-blocked", action="store_true",
                        help="exit 0 when steps were only blocked by the network (never when one failed)")
    parser.add_argument("--skip", action="append", default=[], metavar="STEP[=REASON]",
                        help="list a step as skipped (with the reason) instead of running it")
    parser.add_argument("--ca-bundle", type=Path, default=None, metavar="FILE",
                        help="a PEM bundle the steps trust, for a network that intercepts TLS (the rehearsal "
                             "only: it never enters the image)")
    parser.add_argument("--keep-going", action="store_true", help="run the remaining steps after a failure")
    parser.add_argument("--project", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--flavours-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help="default build/rehearse under the project")
    return parser.parse_args(argv)


MAX_BUNDLE = 4 * 1024 * 1024


def _bundle_problem(path: Path) -> Optional[str]:
    """Why a --ca-bundle file cannot be used, or None: a regular PEM file of a sane size."""
    if not path.is_file():
        return "not a regular file"
    if path.stat().st_size > MAX_BUNDLE:
        return f"larger than {MAX_BUNDLE // (1024 * 1024)} MiB; not a CA bundle"
    if b"-----BEGIN CERTIFICATE-----" not in path.read_bytes():
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    return None


def main(argv: Optional[list] = None) -> int:
    args = parse_args(argv)
    workdir = (args.out or args.project / "build" / "rehearse").resolve()
    try:
        rehearsal = load_rehearsal(args.stack, args.flavour, args.project, args.flavours_dir)
    except RehearsalError as err:
        print(f"rehearse: {err}", file=sys.stderr)
        return 2
    skip = dict((item.split("=", 1) + [""])[:2] for item in args.skip)
    unknown = sorted(set(skip) - {s.name for s in rehearsal.steps})
    if unknown:
        print(f"rehearse: --skip {', '.join(unknown)}: not a step of {rehearsal.flavour}", file=sys.stderr)
        return 2
    if args.ca_bundle is not None:
        problem = _bundle_problem(args.ca_bundle)
        if problem:
            print(f"rehearse: --ca-bundle {args.ca_bundle}: {problem}", file=sys.stderr)
            return 2
    base = base_of(rehearsal.base_aws, rehearsal.base_azure)
    label = f"{rehearsal.stack}-{rehearsal.flavour}"
    try:
        engine = choose_engine(args.engine, base, workdir, label)
    except EngineError as err:
        print(f"rehearse: {err}", file=sys.stderr)
        return 2
    engine.ca_bundle = args.ca_bundle.resolve() if args.ca_bundle else None
    stand_in = engine.stand_in(base)
    actions = plan_actions(rehearsal, skip)
    progress = make_progress(len(actions))
    on = stand_in.label if stand_in else base.label
    what = f"on {on} as a stand-in for {base.label}" if stand_in else f"on {base.label}"
    progress.say(f"rehearsing {label} ({rehearsal.cloud}'s build) {what}, engine {engine.name}: "
                 f"{len(actions)} actions")
    if args.ca_bundle:
        progress.say(f"the steps trust {args.ca_bundle} (--ca-bundle), which a build instance does not")
    run_dir = workdir / "run" / label
    logs = run_dir / "logs"
    results: dict = {}
    started = time.monotonic()
    interrupted = False
    try:
        engine.ensure_root(progress.say)
        safe_remove(logs)
        logs.mkdir(parents=True)
        root = engine.prepare(run_dir)
        blocked: dict = {}
        by_index = {a.index: a for a in actions}

        def emit(event: dict) -> None:
            action = by_index[event["index"]]
            if event["event"] == "start":
                progress.start(action)
            else:
                results[action.index] = event
                progress.end(action, event)

        for session in sorted({a.session for a in actions}):
            todo = [a.as_dict() for a in actions if a.session == session]
            ok, blocked = engine.run_session(root, todo, blocked, emit, args.cache, workdir / "downloads", logs,
                                             args.keep_going)
            if not ok:
                break
    except KeyboardInterrupt:
        interrupted = True
    except (EngineError, MountedError) as err:
        progress.close()
        print(f"rehearse: {err}", file=sys.stderr)
        return 2
    finally:
        progress.close()
        engine.finish(run_dir)
    steps = []
    failed_at = next((a for a in actions if results.get(a.index, {}).get("status") == "failed"), None)
    for action in actions:
        result = results.get(action.index)
        if result is None:
            why = ("interrupted (Ctrl-C)" if interrupted else
                   f"not run: {failed_at.label} failed before it" if failed_at else "not run")
            result = {"status": "skipped", "reason": why,
                      "exit_code": None, "seconds": 0.0, "log": None}
        steps.append({"name": action.step, "phase": action.phase, **result})
    report = build_report(rehearsal.flavour, rehearsal.stack, engine.name, base.label,
                          stand_in.label if stand_in else None, steps)
    report["ca_bundle"] = str(args.ca_bundle) if args.ca_bundle else None
    if interrupted:
        report["result"] = "failed"
    json_path, xml_path = write_report(report, workdir)
    counts = {s: sum(x["status"] == s for x in steps) for s in ("passed", "failed", "blocked", "skipped")}
    for step in steps:
        if step["status"] == "failed" and step.get("log"):
            print(f"\n----- log of {step['name']} ({step['phase']}): {step['log']}")
            print(Path(step["log"]).read_text(encoding="utf-8", errors="replace").rstrip())
    for step in steps:
        if step["status"] in ("blocked", "skipped") and step.get("reason"):
            print(f"{step['status']}: {step['name']} ({step['phase']}): {step['reason']}")
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    # "failed" in the report also covers steps the network blocked: say which it was here.
    outcome = report["result"] if counts["failed"] or not counts["blocked"] else "incomplete (blocked, nothing failed)"
    print(f"\nrehearsal {outcome}{' (interrupted)' if interrupted else ''} in {minutes}m{seconds:02d}s "
          f"{what}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    print(f"report: {json_path.relative_to(Path.cwd()) if json_path.is_relative_to(Path.cwd()) else json_path} "
          f"(JUnit: {xml_path.name})")
    if interrupted:
        return 130
    code = exit_code(steps, args.allow_blocked)
    if code == 0 and counts["blocked"]:
        print(f"{counts['blocked']} blocked by the network, allowed by --allow-blocked")
    return code


if __name__ == "__main__":
    sys.exit(main())
