"""One measured run in a fresh process: `plan` (the project) or `floor` (bare registrations).

plan:  the clock covers what `make plan` does up to the registered plan: read
       Pulumi.<stack>.yaml (components.plan.stack_config) and run the real
       __main__.py under the mock engine (components.plan.run_program), with every
       import both need. Not timed: interpreter start, writing the plan file,
       printing the summary and the guardrails (plan_bench.py times the whole
       `make plan` command separately).
floor: the clock covers importing the provider SDK modules the plan imported and
       registering the plan's resources with the same inputs under the same mock
       engine (run_program running floor_program.register) with the provider SDK
       classes; generic-floor the same with pulumi.CustomResource. Reading the plan
       file happens before the clock starts.

Prints one JSON line: seconds, peak RSS in MiB, the number of resources
registered and, for the floor, whether its registrations equal the plan's.
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROVIDER_PACKAGES = {"pulumi_aws", "pulumi_azure_native", "pulumi_command"}
sys.path.insert(0, str(REPO))


def _identity(registration: dict) -> dict:
    """What 'the same resource with the same inputs' compares."""
    return {key: registration[key] for key in ("urn", "type", "name", "parent", "custom", "inputs")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["plan", "floor", "generic-floor"])
    parser.add_argument("--root", required=True)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--plan-file", required=True, help="plan: where to write it; floor: what to register")
    args = parser.parse_args()
    root = Path(args.root)
    plan_file = Path(args.plan_file)
    same = None

    if args.mode == "plan":
        start = time.perf_counter()
        from components.plan import run_program, stack_config

        config = stack_config(args.stack, root)[0]
        plan = run_program(args.stack, config, root=root)
        seconds = time.perf_counter() - start
        plan_file.write_text(json.dumps(plan.as_json(), sort_keys=True))
        side = {
            "config": config,
            "modules": sorted(m for m in sys.modules if m.split(".")[0] in PROVIDER_PACKAGES),
        }
        Path(f"{plan_file}.side.json").write_text(json.dumps(side))
    else:
        sys.path.insert(0, str(REPO / "bench"))
        import floor_program

        floor_program.PLAN = json.loads(plan_file.read_text())
        floor_program.MODE = "generic" if args.mode == "generic-floor" else "typed"
        side = json.loads(Path(f"{plan_file}.side.json").read_text())
        floor_root = root / "floor"
        floor_root.mkdir(exist_ok=True)
        (floor_root / "__main__.py").write_text("import floor_program\n\nfloor_program.register()\n")

        # Pay exactly the provider-SDK import cost the project paid, inside the program as it does.
        floor_program.MODULES = side["modules"]
        start = time.perf_counter()
        from components.plan import run_program

        plan = run_program(args.stack, side["config"], root=floor_root)
        seconds = time.perf_counter() - start
        expected = [_identity(r) for r in floor_program.PLAN["resources"]]
        same = [_identity(r.as_json()) for r in plan.resources] == expected
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "resources": len(plan.resources), "same_as_plan": same}))


if __name__ == "__main__":
    main()
