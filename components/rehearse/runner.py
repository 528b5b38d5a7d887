"""Run one session's actions on a rehearsal machine: downloads, scripts, exit codes, retries.

Standard library only: for the chroot engine this module runs as the first process of
private mount and PID namespaces (`python -m components.rehearse.runner SPEC`), mounts
/proc, /dev, /tmp and /run into the root, runs the actions chrooted with the dangerous
capabilities dropped, and unmounts everything again in reverse order, on failure and on
Ctrl-C too. Events go to stdout as JSON lines; each action's output goes to its log file.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

# What AWSTOE's ExecuteBash gives a script: root, a plain PATH, no terminal.
ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root", "USER": "root", "LOGNAME": "root", "SHELL": "/bin/bash",
    "LANG": "C.UTF-8", "TERM": "dumb",
}
# A network that intercepts TLS (a corporate proxy) re-signs every certificate with its own CA,
# which a fresh root file system does not trust. `--ca-bundle` hands the host's bundle to the
# steps for the rehearsal only: it lives on the session's /run (a tmpfs, empty again at the next
# start), never in the image, and the usual variables of OpenSSL, curl, pip, requests and git
# point at it.
CA_BUNDLE_PATH = "/run/golden-images-rehearse/ca-certificates.crt"
CA_VARIABLES = ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO")


# No service manager runs in a chroot or a plain container (PID 1 is not systemd), and with the
# dangerous capabilities dropped systemctl cannot see that it runs in a chroot: offline, it enables,
# disables and masks units on the file system, as on the build instance, and ignores start, stop
# and is-active, which only a running system can answer.
NO_SERVICE_MANAGER = {"SYSTEMD_OFFLINE": "1"}


def environment(ca_bundle: bool) -> dict:
    """The environment of every step: AWSTOE's, systemctl offline, and the rehearsal's CA bundle
    when one is given."""
    return {**ENVIRONMENT, **NO_SERVICE_MANAGER,
            **({name: CA_BUNDLE_PATH for name in CA_VARIABLES} if ca_bundle else {})}


FETCH_TIMEOUT = 30
# HTTP answers that come from a proxy or gateway in the way, not from the file's server.
BLOCKING_HTTP = {407, 502, 503, 504}

# A script's output that says the network refused it (curl, apt, pip, git, wget).
_REFUSALS = [
    re.compile(r"curl: \((?:5|6|7|28|35|56)\) (.*)"),
    re.compile(r"Could not resolve host:? '?([A-Za-z0-9.-]+)"),
    re.compile(r"Temporary failure resolving '([^']+)'"),
    re.compile(r"Failed to fetch (\S+)"),
    re.compile(r"Could not connect to (\S+)"),
    re.compile(r"Failed to establish a new connection: (.*)"),
    re.compile(r"unable to resolve host address '([^']+)'"),
]
# A certificate that the root does not trust: on a build instance the same request succeeds
# unless the image is broken, so the likely cause is a TLS-intercepting network in between.
_UNTRUSTED = re.compile(r"CERTIFICATE_VERIFY_FAILED|SSL certificate problem: [^\n]*|"
                        r"certificate verify failed[^\n]*|server certificate verification failed[^\n]*")
_FAILED_TEST = re.compile(r"^FAIL (test_[A-Za-z0-9_]+)\s*$", re.M)

# Capabilities a step never gets: with them a root process could leave its root file system
# (mount, chroot again, device nodes, raw I/O), load kernel modules, restart or reset the
# clock of the host. Numbers from linux/capability.h.
DROPPED_CAPABILITIES = {
    "net_admin": 12, "sys_module": 16, "sys_rawio": 17, "sys_chroot": 18, "sys_ptrace": 19,
    "sys_admin": 21, "sys_boot": 22, "sys_time": 25, "mknod": 27, "audit_control": 30,
    "mac_override": 32, "mac_admin": 33, "syslog": 34, "wake_alarm": 35, "block_suspend": 36,
    "bpf": 39, "checkpoint_restore": 40,
}
PR_CAPBSET_DROP = 24


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Blocked(Exception):
    """The network refused a download; the message names the URL."""


class FetchFailed(Exception):
    """A download that answered wrongly (not found, wrong checksum)."""


def fetch(item: dict, caches: list, store: Optional[Path]) -> Path:
    """A verified local copy of one pinned download or build asset."""
    sha = item["sha256"]
    if item.get("local"):
        path = Path(item["local"])
        if sha256_of(path) != sha:
            raise FetchFailed(f"build asset {path} has sha256 {sha256_of(path)}, expected {sha}")
        return path
    for cache in caches:
        path = Path(cache) / sha
        if path.is_file():
            if sha256_of(path) == sha:
                return path
            raise FetchFailed(f"{path} in the download cache has the wrong sha256")
    url = item["url"]
    target = (store or Path("/tmp")) / f".{sha}.part"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer, open(target, "wb") as out:
            shutil.copyfileobj(answer, out)
    except urllib.error.HTTPError as err:
        target.unlink(missing_ok=True)
        if err.code in BLOCKING_HTTP:
            raise Blocked(f"{url} (HTTP {err.code} from the network in between)") from None
        raise FetchFailed(f"{url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as err:
        target.unlink(missing_ok=True)
        reason = getattr(err, "reason", err)
        raise Blocked(f"{url} ({reason})") from None
    actual = sha256_of(target)
    if actual != sha:
        target.unlink(missing_ok=True)
        raise FetchFailed(f"{url}: sha256 {actual}, pinned {sha}")
    final = target.with_name(sha)
    os.replace(target, final)
    return final


def network_refusal(log: str) -> Optional[str]:
    for pattern in _REFUSALS:
        match = pattern.search(log)
        if match:
            return match.group(0).strip()
    match = _UNTRUSTED.search(log)
    if match:
        return (f"{match.group(0).strip()} (a TLS-intercepting proxy? give its CA bundle with --ca-bundle, e.g. "
                "--ca-bundle /etc/ssl/certs/ca-certificates.crt)")
    return None


def run_session(backend, actions: list, blocked: dict, emit: Callable[[dict], None],
                caches: list, store: Optional[Path], logs: Path, keep_going: bool = False) -> bool:
    """Run the actions of one session in order; False when one failed and the run stops.

    `blocked` maps step use (plan.use_keys) -> why its build was blocked, across sessions.
    """
    for action in actions:
        step = action.get("use") or action["step"]
        log_path = logs / f"{action['index']:02d}-{action['step']}-{action['phase']}.log"
        emit({"event": "start", "index": action["index"]})
        started = time.monotonic()
        result = {"event": "end", "index": action["index"], "exit_code": None, "log": str(log_path)}
        if action["skip_reason"]:
            result.update(status="skipped", reason=action["skip_reason"])
        elif action["phase"] != "build" and step in blocked:
            result.update(status="blocked", reason=f"its build was blocked: {blocked[step]}")
        else:
            result.update(_run_action(backend, action, blocked, caches, store, log_path))
            if action["phase"] == "build" and result["status"] == "blocked" and not result.get("by_tests"):
                blocked[step] = result["reason"]
        result["seconds"] = round(time.monotonic() - started, 1)
        emit(result)
        if result["status"] == "failed" and not keep_going:
            return False
    return True


def _run_action(backend, action: dict, blocked: dict, caches: list, store: Optional[Path], log_path: Path) -> dict:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        for item in action["fetches"]:
            try:
                path = fetch(item, caches, store)
            except Blocked as err:
                log.write(f"download blocked by the network: {err}\n")
                return {"status": "blocked", "reason": f"download blocked: {err}"}
            except FetchFailed as err:
                log.write(f"download failed: {err}\n")
                return {"status": "failed", "reason": str(err)}
            backend.put(item["destination"], path.read_bytes(), 0o644)
            log.write(f"fetched {item['url']} -> {item['destination']} (sha256 {item['sha256']})\n")
        backend.put(action["script_path"], action["script"].encode(), 0o644)
    code = None
    for attempt in range(1, action["attempts"] + 1):
        with open(log_path, "a", encoding="utf-8") as log:
            if attempt > 1:
                log.write(f"--- attempt {attempt} of {action['attempts']}\n")
            log.flush()
            code = backend.run(action["script_path"], action["timeout_seconds"], log)
        if code in action["valid_exit_codes"]:
            backend.remove(action["script_path"])
            return {"status": "passed", "exit_code": code}
    text = log_path.read_text(encoding="utf-8", errors="replace")
    what = "timed out" if code is None else f"failed with exit code {code}"
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"{action['step']} {action['phase']}: {what}\n")
    refused = network_refusal(text)
    if refused:
        return {"status": "blocked", "exit_code": code, "reason": f"the network refused it: {refused}"}
    failing = _FAILED_TEST.findall(text)
    needs = action.get("needs") or {}
    names = {use.split("#", 1)[0] for use in blocked}  # `# needs:` names steps, not uses
    if failing and all(set(needs.get(t, ())) & names for t in failing):
        why = ", ".join(f"{t} needs {'/'.join(sorted(set(needs[t]) & names))}" for t in failing)
        return {"status": "blocked", "exit_code": code, "by_tests": True,
                "reason": f"only tests of blocked steps failed: {why}"}
    return {"status": "failed", "exit_code": code, "reason": what}


# ---------------------------------------------------------------------------
# The chroot machine, inside private mount and PID namespaces
# ---------------------------------------------------------------------------
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}


def _drop_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for number in DROPPED_CAPABILITIES.values():
        libc.prctl(PR_CAPBSET_DROP, number, 0, 0, 0)  # unknown to an older kernel: EINVAL, nothing to drop


class ChrootMachine:
    """A root file system with private /proc, /dev, /tmp and /run, its steps run chrooted."""

    def __init__(self, root: Path, ca_bundle: Optional[bytes] = None):
        self.root = Path(root).resolve()
        self.mounted: list[Path] = []
        self.added: list = []
        self.ca_bundle = ca_bundle
        self.env = environment(ca_bundle is not None)

    def _mount(self, target: Path, *args: str) -> None:
        if not target.exists():
            target.mkdir(parents=True)
        subprocess.run(["mount", *args, str(target)], check=True)
        self.mounted.append(target)

    def __enter__(self):
        try:
            subprocess.run(["mount", "--make-rprivate", "/"], check=True)
            root = self.root
            # procfs of this PID namespace: the steps see only their own processes.
            self._mount(root / "proc", "-t", "proc", "-o", "nosuid,nodev,noexec", "proc")
            # Kernel parameters are the host's: the steps get a private copy to read and write.
            self._mount(root / "proc/sys", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,mode=555", "sysctl")
            _copy_sysctl(Path("/proc/sys"), root / "proc/sys")
            self.added = _add_distribution_sysctls(root / "proc/sys")
            # A minimal /dev of its own: nothing inside can reach or delete the host's device nodes.
            self._mount(root / "dev", "-t", "tmpfs", "-o", "nosuid,noexec,mode=755,size=1m", "dev")
            for name, (major, minor) in DEVICES.items():
                os.mknod(root / "dev" / name, 0o666 | 0o020000, os.makedev(major, minor))
                os.chmod(root / "dev" / name, 0o666)
            for name, target in {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                                 "stderr": "/proc/self/fd/2"}.items():
                os.symlink(target, root / "dev" / name)
            # A private pseudo-terminal instance (apt and dpkg open one for their logs).
            self._mount(root / "dev/pts", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620,nosuid,noexec",
                        "devpts")
            os.symlink("pts/ptmx", root / "dev/ptmx")
            self._mount(root / "dev/shm", "-t", "tmpfs", "-o", "nosuid,nodev,mode=1777", "shm")
            if (root / "proc/sysrq-trigger").exists():  # a kernel without magic SysRq has none
                self._mount(root / "proc/sysrq-trigger", "--bind", "-o", "ro", str(root / "dev/null"))
            self._mount(root / "tmp", "-t", "tmpfs", "-o", "nosuid,nodev,mode=1777", "tmp")
            self._mount(root / "run", "-t", "tmpfs", "-o", "nosuid,nodev,mode=755", "run")
            (root / "run/lock").mkdir(mode=0o1777)
            os.chmod(root / "run/lock", 0o1777)
            if self.ca_bundle is not None:
                self.put(CA_BUNDLE_PATH, self.ca_bundle, 0o644)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for target in reversed(self.mounted):
            if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(target)], capture_output=True)
        self.mounted.clear()

    def _inside(self, path: str) -> Path:
        target = (self.root / path.lstrip("/")).resolve()
        if target != self.root and self.root not in target.parents:
            raise ValueError(f"{path} leaves the root file system")
        return target

    def put(self, path: str, data: bytes, mode: int) -> None:
        target = self._inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, mode)

    def remove_file(self, path: str) -> None:
        self._inside(path).unlink(missing_ok=True)

    def remove(self, path: str) -> None:
        target = self._inside(path)
        target.unlink(missing_ok=True)
        try:
            target.parent.rmdir()
        except OSError:
            pass

    def run(self, path: str, timeout: Optional[int], log) -> Optional[int]:
        root = str(self.root)

        def enter() -> None:
            os.chroot(root)
            os.chdir("/")
            _drop_capabilities()

        process = subprocess.Popen(["/bin/bash", path], env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, preexec_fn=enter, start_new_session=True)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise


def _copy_sysctl(source: Path, target: Path) -> None:
    """Every readable kernel parameter as a plain file: sysctl reads and writes the copy."""
    for current, _dirs, files in os.walk(source):
        rel = Path(current).relative_to(source)
        (target / rel).mkdir(exist_ok=True)
        for name in files:
            try:
                value = (Path(current) / name).read_bytes()
            except OSError:
                continue
            (target / rel / name).write_bytes(value)


# Kernel parameters every distribution kernel of the bases has, at their defaults there, that a
# host kernel built without the feature lacks (Yama, in small virtual machines' kernels).
DISTRIBUTION_SYSCTLS = {"kernel/yama/ptrace_scope": "1\n"}


def _add_distribution_sysctls(target: Path) -> list:
    added = []
    for key, value in DISTRIBUTION_SYSCTLS.items():
        path = target / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value)
            added.append(key.replace("/", "."))
    return added


def boot(machine: "ChrootMachine", log_path: Path) -> None:
    """What a start of the machine applies before any step runs: the kernel parameters of
    /etc/sysctl.d (systemd-sysctl), onto the private copy. /run and /tmp start empty."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        if machine.added:
            log.write(f"this kernel lacks {', '.join(machine.added)}: added at the distribution's default\n")
        if (machine.root / "usr/sbin/sysctl").exists() or (machine.root / "sbin/sysctl").exists():
            machine.put("/var/tmp/golden-images-boot.sh", b"sysctl --system\n", 0o644)
            log.write("sysctl --system\n")
            log.flush()
            machine.run("/var/tmp/golden-images-boot.sh", 60, log)
            machine.remove_file("/var/tmp/golden-images-boot.sh")


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv: list) -> int:
    """The namespace's first process: mount, run the session's actions, unmount."""
    spec = json.loads(Path(argv[0]).read_text())
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    def emit(event: dict) -> None:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    blocked = dict(spec["blocked"])
    bundle = Path(spec["ca_bundle"]).read_bytes() if spec.get("ca_bundle") else None
    with ChrootMachine(Path(spec["root"]), bundle) as machine:
        boot(machine, Path(spec["logs"]) / f"boot-{spec['actions'][0]['session'] if spec['actions'] else 0}.log")
        ok = run_session(machine, spec["actions"], blocked, emit, spec["caches"], Path(spec["store"]),
                         Path(spec["logs"]), spec.get("keep_going", False))
    emit({"event": "session", "ok": ok, "blocked": blocked})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
