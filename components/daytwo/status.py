"""What the cloud modules report: a build's status, and the errors the commands turn into one line."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


class DayTwoError(Exception):
    """A failure the user can act on; the message is the whole report."""


class NoCredentials(DayTwoError):
    """No usable cloud credentials (exit 2)."""


class NotFound(DayTwoError):
    """The pipeline or template the stack names does not exist in the cloud."""


class CloudError(DayTwoError):
    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class Throttled(DayTwoError):
    """The service asked us to slow down, after the SDK's own retries."""


@dataclass
class Status:
    state: str
    step: Optional[str] = None  # current workflow step or customizer
    done: bool = False
    ok: bool = False
    produced: list = field(default_factory=list)  # what the build made, one line each
    failure: list = field(default_factory=list)  # why it failed, one line each
