"""Never delete through a mount: find mounts under a path in every mount namespace, remove safely.

Standard library only, so `make clean` can use it before the virtualenv exists.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, as seen by this process and by any other process.

    Another mount namespace (a rehearsal still running) shows its mounts only in its
    processes' mountinfo, so every /proc/<pid>/mountinfo readable here is read.
    """
    base = str(Path(path).resolve())
    found = set()
    sources = [Path("/proc/self/mountinfo")] + [p / "mountinfo" for p in Path("/proc").iterdir() if p.name.isdigit()]
    for source in sources:
        try:
            lines = source.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 4:
                point = _unescape(fields[4])
                if point == base or point.startswith(base + "/"):
                    found.add(point)
    return sorted(found)


class MountedError(Exception):
    pass


def safe_remove(path: Path) -> None:
    """rm -rf that refuses when anything is mounted below, and never crosses a file system."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    mounted = mounts_under(path)
    if mounted:
        raise MountedError(f"refusing to delete {path}: mounted below it: {', '.join(mounted)}")
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=True)


def main(argv: list) -> int:
    """`python3 -m components.rehearse.mounts clean PATH...` (make clean)."""
    if not argv or argv[0] != "clean":
        print("usage: python3 -m components.rehearse.mounts clean PATH...", file=sys.stderr)
        return 2
    status = 0
    for name in argv[1:]:
        try:
            safe_remove(Path(name))
        except MountedError as err:
            print(f"clean: {err}; stop the rehearsal (or unmount) first", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
