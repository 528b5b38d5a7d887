"""Reading the repository's files safely: only regular files inside the repository, size-bounded.

Flavour files, applications, stack files, embedded files and build assets all come from a
checkout that a fork's pull request controls, and `make plan` runs on such checkouts in CI.
A symbolic link to `/dev/zero` or a FIFO named `web.yaml` must not hang or exhaust the
runner, and a link leaving the repository must not read (and later print) a file of the
machine's. Every refusal names the file and the reason.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_TEXT_BYTES = 1_000_000  # one flavour, applications or stack file; real ones are a few kB


class FileRefused(ValueError):
    """A path that is not a regular file inside the repository, or too large; the message says why."""


def inside(path: Path, root: Path) -> Path:
    """The path with every link resolved, refused unless it exists and stays inside root.

    Symbolic links inside the repository are followed (a shared test suite linked into two
    folders is fine); a loop or a link out of the repository is refused.
    """
    try:
        real = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way
        raise FileRefused("is a symbolic link loop") from None
    except FileNotFoundError:
        raise FileRefused("does not exist" + (" (a dangling symbolic link)" if path.is_symlink() else "")) from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise FileRefused("is a symbolic link loop") from None
        raise FileRefused(f"cannot be read ({err.strerror})") from None
    if not real.is_relative_to(root.resolve()):
        raise FileRefused("is a symbolic link leading outside the repository")
    return real


def kind_problem(mode: int) -> str:
    """Why a file of this mode is not read, or '' for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def read_bytes(path: Path, root: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    """A regular file's bytes, at most `limit` of them; FileRefused otherwise.

    The file is opened without blocking (a FIFO would wait for a writer forever) and its
    kind is checked on the open descriptor, so a file swapped after the check is still
    judged by what was opened.
    """
    real = inside(path, root)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise FileRefused("is a symbolic link loop") from None
        if err.errno == errno.EISDIR:
            raise FileRefused("is a directory, not a file") from None
        raise FileRefused(f"cannot be read ({err.strerror})") from None
    problem = kind_problem(os.fstat(fd).st_mode)
    if problem:
        os.close(fd)
        raise FileRefused(problem)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise FileRefused(f"cannot be read ({err.strerror})") from None
    if len(data) > limit:
        raise FileRefused(f"is larger than {limit} bytes; a file of this kind is at most {limit // 1000} kB")
    return data


def read_text(path: Path, root: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """read_bytes decoded as UTF-8; FileRefused naming the first undecodable byte's position."""
    data = read_bytes(path, root, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise FileRefused(f"is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})") from None
