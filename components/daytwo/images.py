"""`make images`: per flavour, cloud and region the newest image, its age, lineage and pointers."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable

from .status import CloudError, NotFound, Throttled
from .targets import Target, azure_subscription

DEFAULT_GRACE_HOURS = 24


def collect(targets: list[Target], cloud: str, now: datetime, grace_hours: float,
            aws_clients: Callable[[], Any], azure_clients: Callable[[str], Any]) -> list[dict]:
    from .aws import aws_images
    from .azure import azure_images

    rows = []
    for target in targets:
        for name in target.clouds:
            if cloud not in ("all", name):
                continue
            try:
                if name == "aws":
                    found = aws_images(target, aws_clients(), now)
                else:
                    found = azure_images(target, azure_clients(azure_subscription(target.azure)), now)
            except (NotFound, CloudError, Throttled) as err:
                found = [{"flavour": target.flavour, "cloud": name, "region": None, "image": None,
                          "problem": str(err)}]
            for row in found:
                age = row.get("age_hours")
                limit = target.schedule_hours + grace_hours
                row["stale"] = bool(age is not None and age > limit)
                row["stale_after_hours"] = limit
                rows.append(row)
    return rows


def _findings(row: dict) -> str:
    counts = row.get("findings")
    if not counts:
        return "n/a"
    return f"C{counts['critical']} H{counts['high']} M{counts['medium']}"


def _pointer(row: dict) -> str:
    pointer = row.get("pointer")
    if not pointer:
        return ""
    return "ok" if pointer["ok"] else f"-> {pointer.get('value') or 'missing'}"


def render(rows: list[dict], console: Any, as_json: bool = False) -> None:
    if as_json:
        console.file.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False)
    for column in ("flavour", "cloud", "region", "version", "image", "age", "built from", "findings", "latest"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if row.get("image") is None:
            table.add_row(row["flavour"], row["cloud"], row.get("region") or "", "", row.get("problem", ""),
                          "", "", "", "")
            continue
        age = row.get("age_hours")
        age_text = f"{age / 24:.1f}d" if age is not None else "?"
        if row.get("stale"):
            age_text += " STALE"
        image = row["image"] if row["cloud"] == "aws" else row["image"].rsplit("/images/", 1)[-1]
        table.add_row(row["flavour"], row["cloud"], row.get("region") or "", row.get("version") or "",
                      image, age_text, (row.get("lineage") or {}).get("built-from") or "?",
                      _findings(row), _pointer(row))
    console.print(table)


def exit_code(rows: list[dict]) -> int:
    """0 when every flavour has a fresh image that its pointer names; 1 otherwise (for CI checks)."""
    bad = [r for r in rows if r.get("image") is None or r.get("stale") or
           (r.get("pointer") is not None and not r["pointer"]["ok"])]
    return 1 if bad else 0
