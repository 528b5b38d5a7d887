"""Build assets: folders of the repository a step needs on the build instance.

A `directory` parameter names a folder inside image_flavours/ (an Ansible
playbook with its roles, say). The folder is packed into a gzip-compressed tar
archive that depends only on the files' paths, modes and contents, never on
timestamps or owners, so the same folder always gives the same sha256. The
program uploads the archive once per stack under a name made of that sha256
(S3 on AWS, a blob container on Azure) and the build downloads it before the
step runs; the step's script verifies the checksum again before unpacking.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .build import FlavourBuild

# Uploaded once per content; the build instance downloads it before the step's script runs.
ASSET_DIRS = {"windows": "C:\\golden-images\\assets", "linux": "/var/tmp/golden-images/assets"}
ASSET_PREFIX = "assets"
MAX_ASSET_BYTES = 20 * 1024 * 1024  # Azure recommends its File customizer for files up to 20 MB
MAX_ASSET_FILES = 2000
# Unpacked, on the build instance's disk and in this process while packing.
MAX_ASSET_UNPACKED_BYTES = 64 * 1024 * 1024


class AssetError(ValueError):
    """A folder that cannot become a build asset; the message names the reason."""


@dataclass(frozen=True)
class Asset:
    """A packed folder: where it came from, its checksum and its bytes."""

    path: str  # inside image_flavours/, as the flavour wrote it
    sha256: str
    files: int
    data: bytes = field(repr=False, compare=False)
    kind: str = "directory"  # or "file": one file packed alone, under its own name

    @property
    def key(self) -> str:
        """Object key / blob name: content-addressed, so a change is a new object."""
        return f"{ASSET_PREFIX}/{self.sha256}.tar.gz"

    @property
    def size(self) -> int:
        return len(self.data)

    def destination(self, os_family: str) -> str:
        sep = "\\" if os_family == "windows" else "/"
        return f"{ASSET_DIRS[os_family]}{sep}{self.sha256}.tar.gz"

    def __str__(self) -> str:  # what scripts see as GI_PARAM_<NAME>
        return self.path


def pack_directory(folder: Path, label: str) -> Asset:
    """The folder as a reproducible .tar.gz; symbolic links and special files are refused.

    Bounded before anything is read: at most MAX_ASSET_FILES files of at most
    MAX_ASSET_UNPACKED_BYTES together (a packed limit alone lets 20 MB of zeros stand for
    20 GB on the build instance), then at most MAX_ASSET_BYTES packed.
    """
    return _pack(folder, label)[0]


def pack_and_read(folder: Path, label: str) -> tuple[Asset, list[tuple[str, bytes]]]:
    """pack_directory, with every file's relative path and bytes (for the secret scan)."""
    return _pack(folder, label)


def pack_file(path: Path, label: str) -> Asset:
    """One file as a reproducible .tar.gz holding just it, under its own name (kind "file")."""
    return _pack(path, label, single=True)[0]


def pack_file_and_read(path: Path, label: str) -> tuple[Asset, list[tuple[str, bytes]]]:
    """pack_file, with the file's name and bytes (for the secret scan)."""
    return _pack(path, label, single=True)


def _pack(folder: Path, label: str, single: bool = False) -> tuple[Asset, list[tuple[str, bytes]]]:
    entries: list[tuple[str, Path, bool]] = []
    contents: list[tuple[str, bytes]] = []
    total = 0
    if single:
        mode = folder.lstat()
        if not stat.S_ISREG(mode.st_mode):
            raise AssetError(f"'{label}' is not a regular file")
        if mode.st_size > MAX_ASSET_UNPACKED_BYTES:
            raise AssetError(f"'{label}' holds more than {MAX_ASSET_UNPACKED_BYTES} bytes unpacked; "
                             f"a build asset is at most {MAX_ASSET_UNPACKED_BYTES // (1024 * 1024)} MiB")
        entries.append((folder.name, folder, False))
    for current, dirs, files in [] if single else os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(current) / name
            rel = path.relative_to(folder).as_posix()
            mode = path.lstat()
            if stat.S_ISLNK(mode.st_mode):
                raise AssetError(f"'{label}/{rel}' is a symbolic link; copy the file instead")
            if not (stat.S_ISREG(mode.st_mode) or stat.S_ISDIR(mode.st_mode)):
                raise AssetError(f"'{label}/{rel}' is not a regular file")
            if stat.S_ISREG(mode.st_mode):
                total += mode.st_size
                if total > MAX_ASSET_UNPACKED_BYTES:
                    raise AssetError(f"'{label}' holds more than {MAX_ASSET_UNPACKED_BYTES} bytes unpacked; "
                                     f"a build asset is at most {MAX_ASSET_UNPACKED_BYTES // (1024 * 1024)} MiB")
            entries.append((rel, path, stat.S_ISDIR(mode.st_mode)))
            if len(entries) > MAX_ASSET_FILES * 2:
                break
        dirs[:] = [d for d in dirs if not (Path(current) / d).is_symlink()]
    regular = [e for e in entries if not e[2]]
    if not regular:
        raise AssetError(f"'{label}' has no files")
    if len(regular) > MAX_ASSET_FILES or len(entries) > MAX_ASSET_FILES * 2:
        raise AssetError(f"'{label}' has more than {MAX_ASSET_FILES} files; a build asset holds at most {MAX_ASSET_FILES}")
    buffer = io.BytesIO()
    # mtime=0 in the gzip header and the tar entries, fixed owners and modes: same files, same bytes.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel, path, is_dir in sorted(entries):
                info = tarfile.TarInfo(rel)
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                if is_dir:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                    continue
                content = _read_regular(path, label, rel)
                contents.append((rel, content))
                info.size = len(content)
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                tar.addfile(info, io.BytesIO(content))
    data = buffer.getvalue()
    if len(data) > MAX_ASSET_BYTES:
        raise AssetError(f"'{label}' packs to {len(data)} bytes; a build asset is at most {MAX_ASSET_BYTES}")
    return Asset(path=label, sha256=hashlib.sha256(data).hexdigest(), files=len(regular), data=data,
                 kind="file" if single else "directory"), contents


def _read_regular(path: Path, label: str, rel: str) -> bytes:
    """A file's bytes, refused unless it is (still) a regular file within the unpacked limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        raise AssetError(f"'{label}/{rel}' cannot be read ({err.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AssetError(f"'{label}/{rel}' is not a regular file")
        content = handle.read(MAX_ASSET_UNPACKED_BYTES + 1)
    if len(content) > MAX_ASSET_UNPACKED_BYTES:
        raise AssetError(f"'{label}' holds more than {MAX_ASSET_UNPACKED_BYTES} bytes unpacked")
    return content


def assets_on(builds: Iterable[FlavourBuild], cloud: str) -> dict[str, Asset]:
    """key -> Asset for every build asset a step of these builds fetches on `cloud`."""
    found: dict[str, Asset] = {}
    for build in builds:
        for step in build.steps_on(cloud):
            found.update((value.key, value) for value in step.params.values() if isinstance(value, Asset))
    return dict(sorted(found.items()))


def artifacts_on(builds: Iterable[FlavourBuild], cloud: str) -> list[str]:
    """Every source URL a step of these builds fetches from `cloud`'s own store (the artifact step)."""
    return sorted({d.url for build in builds for step in build.steps_on(cloud) for d in step.downloads
                   if d.store == cloud})


def write_asset(asset: Asset, folder: Path) -> Path:
    """The archive as a file the deployment uploads (named by content, so written once)."""
    path = folder / f"{asset.sha256}.tar.gz"
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != asset.sha256:
        folder.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a half-written archive under its final name would pass for the asset.
        temporary = folder / f".{path.name}.{os.getpid()}.tmp"
        try:
            temporary.write_bytes(asset.data)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path
