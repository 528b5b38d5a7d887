"""Live progress of builds: a rich table on a terminal, one plain line per change otherwise."""
from __future__ import annotations

from typing import Any, Optional


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """update(label, state, step, elapsed) per poll; note(text) for one-off lines; close() at the end."""

    def __init__(self, console: Any = None, live: Optional[bool] = None):
        from rich.console import Console

        self.console = console or Console(highlight=False)
        self.live_mode = self.console.is_terminal if live is None else live
        self.rows: dict = {}
        self._printed: dict = {}
        self._live = None

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(show_edge=False, pad_edge=False)
        for column in ("build", "state", "step", "elapsed"):
            table.add_column(column)
        for label, (state, step, elapsed) in self.rows.items():
            table.add_row(label, state, step or "", _elapsed(elapsed))
        return table

    def update(self, label: str, state: str, step: Optional[str], elapsed: float) -> None:
        self.rows[label] = (state, step, elapsed)
        if self.live_mode:
            from rich.live import Live

            if self._live is None:
                self._live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
                self._live.start(refresh=True)
            else:
                self._live.update(self._table(), refresh=True)
            return
        key = (state, step)
        if self._printed.get(label) != key:
            self._printed[label] = key
            step_text = f" - {step}" if step else ""
            self.console.print(f"{label}: {state}{step_text} [{_elapsed(elapsed)}]", markup=False, soft_wrap=True)

    def note(self, text: str) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, soft_wrap=True)
        else:
            self.console.print(text, markup=False, soft_wrap=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
