"""The live display: step n of N, its name and phase, elapsed time, status.

On a terminal (and with rich installed) the running step's line ticks in place;
otherwise each start and end is one plain line, which CI logs keep readable.
"""
from __future__ import annotations

import sys
import time

MARKS = {"passed": "ok", "failed": "FAILED", "blocked": "BLOCKED", "skipped": "skipped"}


class PlainProgress:
    def __init__(self, total: int, out=None):
        self.total, self.out = total, out or sys.stdout
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _head(self, action) -> str:
        return f"[{action.index:>{len(str(self.total))}}/{self.total}] {action.phase:<8} {action.step}{' ' + action.use_name if action.use_name else ''}"

    def start(self, action) -> None:
        if not action.skip_reason:
            self.say(f"{self._head(action)} ... ({self._clock()})")

    def end(self, action, result: dict) -> None:
        line = f"{self._head(action)} {MARKS[result['status']]} {result.get('seconds', 0):.1f}s"
        if result["status"] != "passed" and result.get("reason"):
            line += f": {result['reason']}"
        self.say(line)

    def _clock(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60}:{seconds % 60:02d} elapsed"

    def close(self) -> None:
        pass


class RichProgress(PlainProgress):
    """The same lines, with the running step's elapsed time ticking on a terminal."""

    def __init__(self, total: int):
        super().__init__(total)
        from rich.console import Console
        from rich.live import Live

        self.console = Console()
        self.current = None
        self.since = 0.0
        self.live = Live(self, console=self.console, refresh_per_second=4, transient=True)
        self.live.start()

    def __rich__(self):
        from rich.text import Text

        if self.current is None:
            return Text("")
        return Text(f"{self._head(self.current)} running {time.monotonic() - self.since:.0f}s  ({self._clock()})",
                    style="bold")

    def say(self, text: str) -> None:
        style = "red" if ("FAILED" in text or "BLOCKED" in text) else None
        self.console.print(text, style=style, highlight=False, markup=False)

    def start(self, action) -> None:
        self.current, self.since = action, time.monotonic()

    def end(self, action, result: dict) -> None:
        self.current = None
        super().end(action, result)

    def close(self) -> None:
        self.live.stop()


def make_progress(total: int):
    if sys.stdout.isatty():
        try:
            return RichProgress(total)
        except ImportError:
            pass
    return PlainProgress(total)
