"""One measured run in a fresh process: `plan` (the project) or `floor` (bare registrations).

Prints one JSON line: wall seconds of the whole process work after interpreter
start, peak RSS in MiB, and the number of resources registered.
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

START = time.perf_counter()
REPO = Path(__file__).resolve().parent.parent
PROVIDER_PACKAGES = {"pulumi_aws", "pulumi_azure_native", "pulumi_command"}
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["plan", "floor"])
    parser.add_argument("--root", required=True)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--plan-file", help="floor: the plan whose resources to register")
    parser.add_argument("--out", help="plan: where to write the plan file")
    args = parser.parse_args()

    import os

    from components.plan import run_program, stack_config

    root = Path(args.root)
    config = stack_config(args.stack, root)[0]
    if args.mode == "floor":
        import importlib

        # Pay exactly the provider-SDK import cost the project paid.
        for module in json.loads(Path(args.plan_file + ".modules.json").read_text()):
            importlib.import_module(module)
        os.environ["GOLDEN_IMAGES_FLOOR_PLAN"] = args.plan_file
        floor_root = root / "floor"
        floor_root.mkdir(exist_ok=True)
        (floor_root / "__main__.py").write_text((REPO / "bench" / "floor_program.py").read_text())
        plan = run_program(args.stack, config, root=floor_root)
    else:
        plan = run_program(args.stack, config, root=root)
        if args.out:
            Path(args.out).write_text(json.dumps(plan.as_json(), sort_keys=True))
            providers = sorted(m for m in sys.modules if m.split(".")[0] in PROVIDER_PACKAGES)
            Path(args.out + ".modules.json").write_text(json.dumps(providers))
    elapsed = time.perf_counter() - START
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mib": peak, "resources": len(plan.resources)}))


if __name__ == "__main__":
    main()
