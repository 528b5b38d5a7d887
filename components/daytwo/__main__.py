"""Day-two commands: `python -m components.daytwo build|images` (make build, make images).

They find each flavour's pipeline and template in the cloud from the names the
program gives them, so they need cloud credentials but no Pulumi CLI or state.
Exit codes: 0 success, 1 a build failed or an image is missing, stale or not
pointed at, 2 no credentials or a mistake in the command or the stack files.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent.parent


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m components.daytwo", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="start a flavour's builds and follow them")
    build.add_argument("--flavour", required=True)
    build.add_argument("--stack", default="dev")
    build.add_argument("--cloud", choices=("aws", "azure", "all"), default="all")
    build.add_argument("--no-wait", action="store_true", help="start the builds, print their ids and return")
    build.add_argument("--with-layers", action="store_true", help="then build the flavours layered on it, in order")
    build.add_argument("--timeout", type=float, default=240.0, help="minutes to follow before giving up (240)")
    build.add_argument("--interval", type=float, default=30.0, help="seconds between polls (30)")
    images = commands.add_parser("images", help="the newest image of every flavour, cloud and region")
    images.add_argument("--stack", default="dev")
    images.add_argument("--cloud", choices=("aws", "azure", "all"), default="all")
    images.add_argument("--json", action="store_true")
    images.add_argument("--grace-hours", type=float, default=24.0,
                        help="an image older than its schedule period plus this is stale (24)")
    return top


def _credential_errors() -> tuple:
    """The SDKs' "no credentials" exceptions, for the ones that are installed."""
    found: list = []
    try:
        from botocore.exceptions import (
            NoCredentialsError,
            NoRegionError,
            PartialCredentialsError,
            ProfileNotFound,
            SSOTokenLoadError,
            TokenRetrievalError,
        )

        found += [NoCredentialsError, PartialCredentialsError, ProfileNotFound, SSOTokenLoadError,
                  TokenRetrievalError, NoRegionError]
    except ImportError:
        pass
    try:
        from azure.core.exceptions import ClientAuthenticationError

        found.append(ClientAuthenticationError)
    except ImportError:
        pass
    try:
        from azure.identity import CredentialUnavailableError

        found.append(CredentialUnavailableError)
    except ImportError:
        pass
    return tuple(found)


def main(argv: Optional[list] = None, *, root: Path = ROOT, console: Any = None,
         aws_clients: Optional[Callable[[], Any]] = None, azure_clients: Optional[Callable[[str], Any]] = None,
         clock: Optional[Callable[[], float]] = None, sleep: Optional[Callable[[float], None]] = None,
         now: Optional[datetime] = None) -> int:
    from rich.console import Console

    from .status import DayTwoError, NoCredentials
    from .targets import TargetError, load_targets

    args = parser().parse_args(argv)
    console = console or Console(highlight=False)
    errors = Console(stderr=True, highlight=False) if console.file is sys.stdout else console
    if aws_clients is None:
        from .aws import AwsClients

        shared = AwsClients()
        aws_clients = lambda: shared  # noqa: E731
    if azure_clients is None:
        from .azure import AzureClients

        made: dict = {}

        def azure_clients(subscription: str) -> Any:
            if subscription not in made:
                made[subscription] = AzureClients(subscription)
            return made[subscription]
    try:
        targets = load_targets(args.stack, root)
        if args.command == "build":
            from .build import Options, run_build
            from .progress import Progress

            options = Options(cloud=args.cloud, wait=not args.no_wait, with_layers=args.with_layers,
                              timeout=args.timeout * 60, interval=args.interval)
            if clock is not None:
                options.clock = clock
            if sleep is not None:
                options.sleep = sleep
            return run_build(targets, args.flavour, options, Progress(console), aws_clients, azure_clients)
        from .images import collect, exit_code, render

        rows = collect(targets, args.cloud, now or datetime.now(timezone.utc), args.grace_hours,
                       aws_clients, azure_clients)
        render(rows, console, as_json=args.json)
        return exit_code(rows)
    except TargetError as err:
        errors.print(str(err), markup=False)
        return 2
    except NoCredentials as err:
        errors.print(f"error: {err}", markup=False)
        return 2
    except _credential_errors() as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        errors.print(f"error: no usable cloud credentials: {first}", markup=False)
        return 2
    except DayTwoError as err:
        errors.print(f"error: {err}", markup=False)
        return 1
    except KeyboardInterrupt:
        errors.print("interrupted; builds already started go on in the cloud", markup=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
