"""Where a rehearsal runs: a container engine when one works, else a debootstrap root in a chroot.

A container engine (docker, podman) runs the image that matches the flavour's base. Without
one, Debian's debootstrap makes a root file system once, cached as a tarball under
build/rehearse/roots/; every rehearsal starts from a fresh copy of it and runs each session
(up to a restart) as `unshare --mount --pid --fork` around runner.py, which mounts what the
steps need inside those private namespaces and unmounts it again.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from . import runner
from .mounts import mounts_under, safe_remove


class EngineError(Exception):
    """No way to rehearse here; the message is one line saying what to install."""


@dataclass(frozen=True)
class Base:
    """The system a flavour's build starts from, and what this machine can run for it."""

    label: str  # "Ubuntu 24.04"
    image: Optional[str]  # container image, e.g. ubuntu:24.04
    family: str  # debian | rhel


def base_of(base_aws: Optional[str], base_azure: Optional[str]) -> Base:
    text = f"{base_aws or ''} {base_azure or ''}".lower()
    match = re.search(r"ubuntu/server/(\d\d\.\d\d)", text) or re.search(r"ubuntu-(\d\d)_(\d\d)", text)
    if match:
        version = match.group(1) if match.lastindex == 1 else f"{match.group(1)}.{match.group(2)}"
        return Base(f"Ubuntu {version}", f"ubuntu:{version}", "debian")
    if "al2023" in text or "amazon-linux-2023" in text:
        return Base("Amazon Linux 2023", "amazonlinux:2023", "rhel")
    if "amzn2" in text or "amazon-linux-2" in text:
        return Base("Amazon Linux 2", "amazonlinux:2", "rhel")
    match = re.search(r"debian[-/:](?:debian-)?(\d+)", text)
    if match:
        return Base(f"Debian {match.group(1)}", f"debian:{match.group(1)}", "debian")
    for name, image in (("rhel", "redhat/ubi9"), ("rocky", "rockylinux:9"), ("alma", "almalinux:9")):
        if name in text:
            return Base(name.upper() if name == "rhel" else name.capitalize(), image, "rhel")
    return Base("an unknown Linux", None, "debian")


# ---------------------------------------------------------------------------
# debootstrap + chroot
# ---------------------------------------------------------------------------
STAND_IN = Base("Debian 12", "debian:12", "debian")
SUITE = "bookworm"
# What a cloud's Ubuntu server image has beyond a minimal Debian: systemd (its users and groups,
# such as systemd-journal, and systemctl, which in a chroot enables units but starts none), kernel
# module tools, procps, the SSH server, Python (cloud-init's) and the CA certificates.
INCLUDE = ["systemd", "kmod", "procps", "openssh-server", "python3", "ca-certificates"]
# The cached root's name says what it was made with: a changed list makes a new root.
ROOT_TARBALL = f"debian-{SUITE}-{hashlib.sha256(' '.join(INCLUDE).encode()).hexdigest()[:8]}.tar"
# As in container images: packages do not start services in the rehearsal root.
POLICY_RC_D = "#!/bin/sh\n# golden-images rehearsal: packages start no services here\nexit 101\n"


def apt_mirror(etc: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses (deb822 .sources or sources.list)."""
    texts = [p.read_text(errors="replace") for p in sorted(etc.glob("sources.list.d/*.sources"))]
    for text in texts:
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split() and "security" not in uris.group(1):
                return uris.group(1)
    lists = [etc / "sources.list", *sorted(etc.glob("sources.list.d/*.list"))]
    for path in lists:
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+" + SUITE + r"\s", line)
                if match:
                    return match.group(1)
    return "http://deb.debian.org/debian"


class ChrootEngine:
    name = "chroot"
    ca_bundle: Optional[Path] = None  # --ca-bundle: trusted by the steps for the rehearsal only

    def __init__(self, workdir: Path, python: str = sys.executable):
        self.workdir = Path(workdir).resolve()
        self.python = python
        self.tarball = self.workdir / "roots" / ROOT_TARBALL

    @staticmethod
    def problem() -> Optional[str]:
        if os.geteuid() != 0:
            return "install docker or podman, or run as root with debootstrap (apt-get install debootstrap)"
        if not shutil.which("unshare") or not shutil.which("mount"):
            return "unshare and mount are missing: install util-linux (apt-get install util-linux)"
        return None

    def stand_in(self, base: Base) -> Optional[Base]:
        return None if base.label == STAND_IN.label else STAND_IN

    def ensure_root(self, say: Callable[[str], None]) -> None:
        """The cached root file system, made with debootstrap the first time."""
        if self.tarball.is_file():
            return
        if not shutil.which("debootstrap"):
            raise EngineError("no root file system cached and debootstrap is missing: apt-get install debootstrap "
                              "(or install docker or podman)")
        mirror = apt_mirror()
        self.tarball.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".debootstrap-", dir=self.tarball.parent))
        say(f"making the Debian 12 root file system with debootstrap from {mirror} (once; cached in {self.tarball})")
        try:
            # In its own mount namespace: whatever debootstrap mounts in the target vanishes with it.
            command = ["unshare", "--mount", "--propagation", "private", "--",
                       "debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE, str(staging), mirror]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
                raise EngineError(f"debootstrap failed (exit {done.returncode}):\n{tail}")
            policy = staging / "usr/sbin/policy-rc.d"
            policy.write_text(POLICY_RC_D)
            policy.chmod(0o755)
            subprocess.run(["apt-get", "clean"], cwd=staging, check=False, capture_output=True)
            for cache in (staging / "var/cache/apt/archives").glob("*.deb"):
                cache.unlink()
            part = self.tarball.with_suffix(".tar.part")
            subprocess.run(["tar", "--numeric-owner", "--xattrs", "-cf", str(part), "-C", str(staging),
                            "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."], check=True)
            os.replace(part, self.tarball)
        finally:
            safe_remove(staging)

    def prepare(self, run_dir: Path) -> Path:
        """A fresh copy of the cached root for one rehearsal."""
        root = run_dir / "root"
        safe_remove(root)
        root.mkdir(parents=True)
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "-xpf", str(self.tarball), "-C", str(root)], check=True)
        resolv = Path("/etc/resolv.conf")
        if resolv.exists():
            target = root / "etc/resolv.conf"
            if target.is_symlink() or target.exists():
                target.unlink()
            shutil.copyfile(resolv, target)
        return root

    def run_session(self, root: Path, actions: list, blocked: dict, emit: Callable[[dict], None],
                    caches: list, store: Path, logs: Path, keep_going: bool) -> tuple[bool, dict]:
        spec = {"root": str(root), "actions": actions, "blocked": blocked, "caches": [str(c) for c in caches],
                "store": str(store), "logs": str(logs), "keep_going": keep_going,
                "ca_bundle": str(self.ca_bundle) if self.ca_bundle else None}
        spec_path = logs.parent / "session.json"
        spec_path.write_text(json.dumps(spec))
        project = Path(__file__).resolve().parents[2]
        command = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "--",
                   self.python, "-m", "components.rehearse.runner", str(spec_path)]
        ok, after, ended = False, dict(blocked), False
        process = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, text=True,
                                   env={**os.environ, "PYTHONPATH": str(project)})
        try:
            for line in process.stdout:
                event = json.loads(line)
                if event.get("event") == "session":
                    ok, after, ended = event["ok"], event["blocked"], True
                else:
                    emit(event)
        finally:
            process.wait()
            leftover = mounts_under(root)
            if leftover:  # cannot happen: the namespace is gone; never go on with the host at risk
                raise EngineError(f"mounts left under {root}: {', '.join(leftover)}")
        if process.returncode == 130:
            raise KeyboardInterrupt
        if not ended:
            raise EngineError(f"the rehearsal machine stopped with exit code {process.returncode} (see above)")
        return ok, after

    def finish(self, root: Path) -> None:
        pass


# ---------------------------------------------------------------------------
# docker / podman
# ---------------------------------------------------------------------------
class ContainerMachine:
    """A long-running container of the base image; a restart is a container restart."""

    def __init__(self, tool: str, name: str, ca_bundle: Optional[bytes] = None):
        self.tool, self.name = tool, name
        self.env = runner.environment(ca_bundle is not None)
        if ca_bundle is not None:
            self.put(runner.CA_BUNDLE_PATH, ca_bundle, 0o644)

    def put(self, path: str, data: bytes, mode: int) -> None:
        with tempfile.NamedTemporaryFile() as handle:
            handle.write(data)
            handle.flush()
            os.chmod(handle.name, mode)
            subprocess.run([self.tool, "exec", self.name, "mkdir", "-p", str(Path(path).parent)], check=True)
            subprocess.run([self.tool, "cp", handle.name, f"{self.name}:{path}"], check=True, capture_output=True)

    def remove(self, path: str) -> None:
        subprocess.run([self.tool, "exec", self.name, "sh", "-c", f"rm -f '{path}'; rmdir '{Path(path).parent}' 2>/dev/null || true"],
                       capture_output=True)

    def run(self, path: str, timeout: Optional[int], log) -> Optional[int]:
        env = [arg for k, v in self.env.items() for arg in ("-e", f"{k}={v}")]
        try:
            return subprocess.run([self.tool, "exec", *env, "-w", "/", self.name, "/bin/bash", path],
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            subprocess.run([self.tool, "restart", "-t", "0", self.name], capture_output=True)
            return None


class ContainerEngine:
    ca_bundle: Optional[Path] = None  # --ca-bundle: trusted by the steps for the rehearsal only

    def __init__(self, tool: str, image: str, label: str):
        self.name, self.tool, self.image = tool, tool, image
        self.container = f"golden-images-rehearse-{label}"
        self.started = False

    @staticmethod
    def available(tool: str) -> bool:
        if not shutil.which(tool):
            return False
        try:
            return subprocess.run([tool, "info"], capture_output=True, timeout=20).returncode == 0
        except (subprocess.TimeoutExpired, OSError):
            return False

    def stand_in(self, base: Base) -> Optional[Base]:
        return None

    def ensure_root(self, say: Callable[[str], None]) -> None:
        if subprocess.run([self.tool, "image", "inspect", self.image], capture_output=True).returncode != 0:
            say(f"pulling {self.image}")
            if subprocess.run([self.tool, "pull", self.image]).returncode != 0:
                raise EngineError(f"{self.tool} cannot pull {self.image}")

    def prepare(self, run_dir: Path) -> Path:
        subprocess.run([self.tool, "rm", "-f", self.container], capture_output=True)
        subprocess.run([self.tool, "run", "-d", "--name", self.container, self.image, "sleep", "infinity"],
                       check=True, capture_output=True)
        self.started = True
        return Path(self.container)

    def run_session(self, root: Path, actions: list, blocked: dict, emit, caches: list, store: Path, logs: Path,
                    keep_going: bool) -> tuple[bool, dict]:
        if actions and actions[0]["index"] > 1:  # a restart between sessions, on the same file system
            subprocess.run([self.tool, "restart", "-t", "5", self.container], check=True, capture_output=True)
        blocked = dict(blocked)
        bundle = self.ca_bundle.read_bytes() if self.ca_bundle else None
        ok = runner.run_session(ContainerMachine(self.tool, self.container, bundle), actions, blocked, emit, caches, store,
                                logs, keep_going)
        return ok, blocked

    def finish(self, root: Path) -> None:
        if self.started:
            subprocess.run([self.tool, "rm", "-f", self.container], capture_output=True)


def choose_engine(wanted: str, base: Base, workdir: Path, label: str):
    """The engine for this base, or EngineError with one line saying what to install."""
    if wanted in ("auto", "docker", "podman") and base.image:
        for tool in (("docker", "podman") if wanted == "auto" else (wanted,)):
            if ContainerEngine.available(tool):
                return ContainerEngine(tool, base.image, label)
        if wanted != "auto":
            raise EngineError(f"{wanted} is not installed or cannot run containers here")
    problem = ChrootEngine.problem()
    engine = ChrootEngine(workdir)
    if problem is None and (engine.tarball.is_file() or shutil.which("debootstrap")):
        return engine
    if problem is None:
        problem = "install docker or podman, or debootstrap (apt-get install debootstrap)"
    raise EngineError(f"no engine to rehearse on: {problem}")
