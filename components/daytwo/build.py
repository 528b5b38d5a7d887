"""`make build`: start a flavour's builds on its clouds and follow them until they end."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from ..model.vocabulary import did_you_mean
from .status import DayTwoError, NoCredentials, NotFound, Status, Throttled
from .targets import Target, TargetError, azure_subscription, layers_of

MAX_THROTTLED = 6  # consecutive throttled polls of one build before giving up on following it
MAX_BACKOFF = 300.0


@dataclass
class Options:
    cloud: str = "all"  # aws, azure or all
    wait: bool = True
    with_layers: bool = False
    timeout: float = 4 * 3600.0  # seconds of following before giving up
    interval: float = 30.0  # seconds between polls
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def _clouds(target: Target, cloud: str) -> list[str]:
    return [c for c in target.clouds if cloud in ("all", c)]


def make_runs(target: Target, options: Options, aws_clients: Callable[[], Any],
              azure_clients: Callable[[str], Any]) -> list:
    from .aws import AwsBuild
    from .azure import AzureBuild

    runs = []
    for cloud in _clouds(target, options.cloud):
        if cloud == "aws":
            runs.append(AwsBuild(target.flavour, target.aws.region, target.aws.pipeline_name, aws_clients()))
        else:
            runs.append(AzureBuild(target.flavour, target, azure_clients(azure_subscription(target.azure))))
    return runs


def follow(runs: list, progress: Any, options: Options) -> dict:
    """Poll every run until each ends or the timeout passes; the last Status of each."""
    begin = options.clock()
    results: dict = {}
    throttled: dict = {}
    while True:
        backoff = options.interval
        for run in runs:
            if run.label in results and results[run.label].done:
                continue
            try:
                status = run.poll()
                throttled[run.label] = 0
            except Throttled as err:
                count = throttled.get(run.label, 0) + 1
                throttled[run.label] = count
                if count >= MAX_THROTTLED:
                    status = Status(state="UNKNOWN", done=True, ok=False,
                                    failure=[f"throttled {count} times in a row ({err}); stopped following; "
                                             "the build itself goes on in the cloud"])
                else:
                    backoff = max(backoff, min(options.interval * 2 ** count, MAX_BACKOFF))
                    status = results.get(run.label) or Status(state="THROTTLED")
            except NoCredentials:
                raise
            except DayTwoError as err:
                status = Status(state="ERROR", done=True, ok=False, failure=[str(err)])
            results[run.label] = status
            progress.update(run.label, status.state, status.step, options.clock() - begin)
        if all(s.done for s in results.values()):
            return results
        if options.clock() - begin + backoff > options.timeout:
            for run in runs:
                status = results[run.label]
                if not status.done:
                    results[run.label] = Status(state=status.state, step=status.step, done=True, ok=False, failure=[
                        f"still {status.state} after {int(options.timeout)} s (--timeout); stopped following; "
                        "the build goes on in the cloud"])
            return results
        options.sleep(backoff)


def report(results: dict, progress: Any) -> bool:
    ok = True
    for label, status in results.items():
        if status.ok:
            progress.note(f"{label}: succeeded")
            for line in status.produced:
                progress.note(f"  produced {line}")
        else:
            ok = False
            progress.note(f"{label}: FAILED ({status.state})")
            for line in status.failure:
                progress.note(f"  {line}")
    return ok


def run_build(targets: list[Target], flavour: str, options: Options, progress: Any,
              aws_clients: Callable[[], Any], azure_clients: Callable[[str], Any]) -> int:
    """0 when every build succeeded (or, with --no-wait, started); 1 otherwise."""
    by_name = {t.flavour: t for t in targets}
    if flavour not in by_name:
        # A user's mistake, like a bad flavour file: exit 2, as make plan does.
        raise TargetError(f"error: no flavour '{flavour}'{did_you_mean(flavour, by_name)} in this stack "
                          f"(flavours: {', '.join(by_name) or 'none'})")
    stages = [by_name[flavour], *(layers_of(targets, flavour) if options.with_layers else [])]
    for index, target in enumerate(stages):
        if not _clouds(target, options.cloud):
            raise NotFound(f"flavour '{target.flavour}' is not built on {options.cloud} in this stack "
                           f"(clouds: {', '.join(target.clouds)})")
        runs = make_runs(target, options, aws_clients, azure_clients)
        started = []
        for run in runs:
            try:
                build_id = run.start()
            except NoCredentials:
                progress.close()
                raise
            except DayTwoError as err:
                progress.note(f"{run.label}: not started: {err}")
                continue
            progress.note(f"{run.label}: started {build_id}")
            started.append(run)
        if len(started) < len(runs):
            progress.close()
            return 1
        if not options.wait:
            continue
        results = follow(started, progress, options)
        progress.close()
        if not report(results, progress):
            rest = [t.flavour for t in stages[index + 1:]]
            if rest:
                progress.note(f"not built, their base failed: {', '.join(rest)}")
            return 1
    progress.close()
    return 0
