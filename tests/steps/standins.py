"""A throwaway machine for running Linux step scripts: a temporary root with stand-in commands.

The scripts write absolute paths (/opt, /etc/systemd/system, /usr/local/bin, ...), so they
run chrooted into a temporary root inside a private mount namespace (a user namespace too
when not root, where the kernel allows unprivileged ones): this machine's /usr and the few
files of /etc its commands need are bound into the root read-only, the rest of the root is
fresh and writable, and nothing the script writes reaches this machine. PATH holds only
stand-ins (/standin/bin) and a short list of this machine's commands (/standin/tools). The
stand-ins are for the commands that would change or query the machine (`systemctl`,
package managers, `curl`, `gpg`, `install`, `useradd`, `getent`, `sleep`); each records its
arguments in /var/log/standin/calls.log and succeeds, and `systemctl` keeps unit state
(enabled, active, masked) under /var/lib/standin/systemd. A package "install" runs a payload
the test chose (the files and the post-install unit state a real package leaves).

Not a test module: test modules import it.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

BASH = "/bin/bash"

# Commands the stand-ins replace: the machine's own are kept off the root's PATH.
TOOLS = ("bash", "sh", "env", "cat", "grep", "awk", "sed", "tar", "gzip", "mktemp", "rm", "mkdir", "rmdir",
         "chmod", "cp", "mv", "ln", "ls", "touch", "basename", "dirname", "sort", "uniq", "uname", "head", "tail",
         "tr", "cut", "id", "readlink", "sha256sum", "find", "xargs", "true", "false", "wc", "tee", "date")

# Folders made empty and writable in the root. Those below /usr are bound back over this
# machine's read-only /usr (which must have them); the rest of the root is the root's own.
FRESH = ("etc/systemd/system", "etc/apt/sources.list.d", "etc/yum.repos.d", "usr/lib/systemd/system",
         "usr/local/bin", "usr/share/keyrings", "opt", "tmp", "var/tmp", "var/lib/standin", "var/log/standin",
         "home", "root", "run", "standin")
COPIED = ("etc/passwd", "etc/group")  # copies, so useradd can add to them
# All of /etc the machine's own commands need (the dynamic linker's cache, alternatives).
HOST_ETC = ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "localtime")

LOG = "/var/log/standin/calls.log"
SYSTEMD_STATE = "/var/lib/standin/systemd"

_PRELUDE = r"""
standin_log() { printf '%s\n' "$*" >> /var/log/standin/calls.log; }
"""

STANDINS = {
    # systemctl on a booted machine, for the verbs the steps use. Unit files are looked up
    # where systemd looks for system units; an unknown unit fails as systemctl does.
    "systemctl": r"""
standin_log "systemctl $*"
state=/var/lib/standin/systemd
[ -d "$state/masked" ] || mkdir -p "$state/enabled" "$state/active" "$state/masked"
dirs=(/etc/systemd/system /usr/lib/systemd/system)
now=false; verb=""; args=()
for argument in "$@"; do
  case "$argument" in
    --now) now=true ;;
    -*) ;;
    *) if [ -z "$verb" ]; then verb=$argument; else args+=("$argument"); fi ;;
  esac
done
unit_name() { case "$1" in *.*) printf '%s' "$1" ;; *) printf '%s.service' "$1" ;; esac; }
exists() { local d; for d in "${dirs[@]}"; do [ -f "$d/$1" ] && return 0; done; return 1; }
file_state() {
  if [ -e "$state/masked/$1" ]; then echo masked
  elif [ -e "$state/enabled/$1" ]; then echo enabled
  else echo disabled; fi
}
status=0
case "$verb" in
  daemon-reload) ;;
  list-unit-files)
    patterns=("${args[@]}"); [ "${#patterns[@]}" -gt 0 ] || patterns=('*')
    for unit in $(for d in "${dirs[@]}"; do ls "$d" 2>/dev/null; done | sort -u); do
      for pattern in "${patterns[@]}"; do
        # shellcheck disable=SC2053
        if [[ $unit == $pattern ]]; then echo "$unit $(file_state "$unit") enabled"; break; fi
      done
    done ;;
  is-enabled|is-active)
    unit=$(unit_name "${args[0]}")
    if [ "$verb" = is-active ]; then
      if [ -e "$state/active/$unit" ]; then echo active; else echo inactive; status=3; fi
    elif ! exists "$unit"; then
      echo "Failed to get unit file state for $unit: No such file or directory" >&2; status=1
    else
      file_state "$unit"; [ "$(file_state "$unit")" = enabled ] || status=1
    fi ;;
  enable|disable|start|stop|restart|mask|unmask)
    for name in "${args[@]}"; do
      unit=$(unit_name "$name")
      if ! exists "$unit" && [ "$verb" != mask ]; then
        echo "Failed to $verb unit: Unit file $unit does not exist." >&2; status=5; continue
      fi
      case "$verb" in
        enable) touch "$state/enabled/$unit"; if $now; then touch "$state/active/$unit"; fi ;;
        disable) rm -f "$state/enabled/$unit"; if $now; then rm -f "$state/active/$unit"; fi ;;
        start|restart) touch "$state/active/$unit" ;;
        stop) rm -f "$state/active/$unit" ;;
        mask) touch "$state/masked/$unit" ;;
        unmask) rm -f "$state/masked/$unit" ;;
      esac
    done ;;
  *) echo "systemctl stand-in: unexpected '$verb'" >&2; status=1 ;;
esac
exit "$status"
""",
    # apt-get and dnf: `install NAME=VERSION` / `NAME-VERSION` runs /standin/packages/NAME
    # with the version asked for (the package's files and post-install unit state).
    "apt-get": r"""
standin_log "apt-get $*"
command=""; packages=()
while [ $# -gt 0 ]; do
  case "$1" in -o) shift ;; -*) ;; *) if [ -z "$command" ]; then command=$1; else packages+=("$1"); fi ;; esac
  shift
done
case "$command" in
  update) ;;
  install)
    for package in "${packages[@]}"; do
      cat /etc/apt/sources.list.d/*.list > "/var/lib/standin/sources-at-install.${package%%=*}" 2>/dev/null || true
      /standin/packages/"${package%%=*}" "${package#*=}" || exit 100
    done ;;
  *) echo "apt-get stand-in: unexpected '$command'" >&2; exit 100 ;;
esac
""",
    "dnf": r"""
standin_log "dnf $*"
command=""; packages=()
for argument in "$@"; do
  case "$argument" in -*) ;; *) if [ -z "$command" ]; then command=$argument; else packages+=("$argument"); fi ;; esac
done
[ "$command" = install ] || { echo "dnf stand-in: unexpected '$command'" >&2; exit 1; }
for package in "${packages[@]}"; do
  for script in /standin/packages/*; do
    name=$(basename "$script")
    case "$package" in "$name"-*)
      cat /etc/yum.repos.d/*.repo > "/var/lib/standin/sources-at-install.$name" 2>/dev/null || true
      "$script" "${package#"$name"-}" || exit 1 ;;
    esac
  done
done
""",
    "rpm": r"""
standin_log "rpm $*"
""",
    # curl --output FILE URL: the file the test put under /standin/web/<host>/<path>.
    "curl": r"""
standin_log "curl $*"
output=""; url=""
while [ $# -gt 0 ]; do
  case "$1" in --output|-o) output=$2; shift ;; --proto|--max-time|--retry) shift ;; -*) ;; *) url=$1 ;; esac
  shift
done
source="/standin/web/${url#https://}"
[ -f "$source" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
cp "$source" "$output"
""",
    # A key file here is one line, `fingerprint FPR`; gpg lists it as one primary key.
    "gpg": r"""
standin_log "gpg $*"
file=""; dearmor=false; previous=""
for argument in "$@"; do
  case "$argument" in --dearmor) dearmor=true ;; esac
  if [ "$previous" = --import ]; then file=$argument; fi
  previous=$argument
done
if $dearmor; then sed 's/^/binary /'; exit 0; fi
[ -n "$file" ] || { echo "gpg stand-in: unexpected $*" >&2; exit 2; }
while read -r kind fingerprint; do
  [ "$kind" = fingerprint ] || continue
  echo "pub:-:4096:1:${fingerprint: -16}:1500000000:::-:::scESC::::::23::0:"
  echo "fpr:::::::::${fingerprint}:"
done < "$file"
""",
    # install, less the owner and group (checked against /etc/passwd and /etc/group).
    "install": r"""
standin_log "install $*"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) grep -q "^$2:" /etc/passwd || { echo "install: invalid user '$2'" >&2; exit 1; }; shift ;;
    -g) grep -q "^$2:" /etc/group || { echo "install: invalid group '$2'" >&2; exit 1; }; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
exec /usr/bin/install "${args[@]}"
""",
    "useradd": r"""
standin_log "useradd $*"
name=${!#}
if grep -q "^$name:" /etc/passwd; then echo "useradd: user '$name' already exists" >&2; exit 9; fi
case " $* " in *" --user-group "*|*" -U "*) echo "$name:x:999:" >> /etc/group ;; esac
echo "$name:x:999:999::/nonexistent:/usr/sbin/nologin" >> /etc/passwd
""",
    "getent": r"""
standin_log "getent $*"
[ "$1" = passwd ] || [ "$1" = group ] || { echo "getent stand-in: unexpected $1" >&2; exit 1; }
grep "^$2:" "/etc/$1" || exit 2
""",
    "sleep": r"""
standin_log "sleep $*"
""",
}


def write_script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{BASH}\n{body.lstrip(chr(10))}")
    path.chmod(0o755)


class Machine:
    """A temporary root with stand-ins; `run` executes a script in it as root of that root."""

    def __init__(self, base: Path, *, without: tuple[str, ...] = ()):
        self.root = base / "root"
        self.root.mkdir()
        for relative in FRESH:
            (self.root / relative).mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").chmod(0o1777)
        for relative in COPIED:
            shutil.copyfile(Path("/") / relative, self.root / relative)
        for name, body in STANDINS.items():
            if name not in without:
                write_script(self.root / "standin" / "bin" / name, _PRELUDE + body)
        # The machine's own commands the scripts use besides the stand-ins (a script calling
        # anything else fails with "command not found", which a test then shows).
        tools = self.root / "standin" / "tools"
        tools.mkdir()
        for name in TOOLS:
            path = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
            if path and name not in without:
                (tools / name).symlink_to(path)
        (self.root / LOG.lstrip("/")).write_text("")
        self.path = "/standin/bin:/standin/tools"

    def clone(self, base: Path) -> "Machine":
        """A copy of this machine as it is now (files, unit state, call log), under `base`."""
        twin = object.__new__(Machine)
        twin.root, twin.path = base / "root", self.path
        shutil.copytree(self.root, twin.root, symlinks=True)
        return twin

    def file(self, path: str) -> Path:
        """Where an absolute path of the machine is, seen from here."""
        return self.root / path.lstrip("/")

    def put(self, path: str, content: str | bytes, mode: int = 0o644) -> Path:
        target = self.file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        target.chmod(mode)
        return target

    def package(self, name: str, body: str) -> None:
        """What installing package `name` does; the script gets the version asked for as $1."""
        write_script(self.file(f"/standin/packages/{name}"), _PRELUDE + body)

    def unit_state(self, state: str) -> set[str]:
        """Units the stand-in systemd holds as 'enabled', 'active' or 'masked'."""
        folder = self.file(f"{SYSTEMD_STATE}/{state}")
        return {p.name for p in folder.iterdir()} if folder.is_dir() else set()

    def set_unit(self, unit: str, state: str) -> None:
        self.put(f"{SYSTEMD_STATE}/{state}/{unit}", "")

    def calls(self, command: str = "") -> list[str]:
        lines = self.file(LOG).read_text().splitlines()
        return [line for line in lines if not command or line.split(" ", 1)[0] == command]

    def run(self, script: str, name: str = "script.sh", env: Optional[dict] = None) -> subprocess.CompletedProcess:
        """Run `script` with bash in the root, as the build instance runs a step's script."""
        self.put(f"/standin/{name}", script, 0o755)
        environment = {"PATH": self.path, "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
        namespace = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            namespace[1:1] = ["--user", "--map-root-user"]
        entry = [sys.executable, "-I", __file__, str(self.root), json.dumps(environment), f"/standin/{name}"]
        return subprocess.run([*namespace, "--", *entry], capture_output=True, text=True, timeout=60, check=False)


# --- Inside the namespace: bind this machine into the root, chroot, exec bash

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND, _MS_REC = 1, 2, 4, 8, 32, 4096, 16384
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, flags: int) -> None:
    if _libc.mount(source.encode(), target.encode(), None, flags, None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def _bind(source: str, target: Path, writable: bool = False) -> None:
    if os.path.isdir(source):
        target.mkdir(exist_ok=True)
    else:
        target.touch()
    _mount(source, str(target), _MS_BIND | _MS_REC)
    if not writable:
        # A read-only remount keeps the flags the source mount has (a user namespace may not drop them).
        flags = os.statvfs(source).f_flag
        kept = (_MS_NOSUID if flags & os.ST_NOSUID else 0) | (_MS_NODEV if flags & os.ST_NODEV else 0) | (
            _MS_NOEXEC if flags & os.ST_NOEXEC else 0)
        _mount("none", str(target), _MS_REMOUNT | _MS_BIND | _MS_RDONLY | kept)


def _enter(root: Path, environment: dict, script: str) -> None:
    # Fresh folders below /usr stay reachable by descriptor once /usr is bound over them.
    below_usr = {f: os.open(root / f, os.O_PATH | os.O_DIRECTORY) for f in FRESH if f.startswith("usr/")}
    for name in sorted(os.listdir("/")):
        source = f"/{name}"
        if name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            if os.path.islink(source):
                if not os.path.lexists(root / name):
                    os.symlink(os.readlink(source), root / name)
            elif os.path.isdir(source):
                _bind(source, root / name)
    for name in HOST_ETC:
        source = f"/etc/{name}"
        if os.path.islink(source):
            if not os.path.lexists(root / "etc" / name):
                os.symlink(os.readlink(source), root / "etc" / name)
        elif os.path.exists(source):
            _bind(source, root / "etc" / name)
    for folder, descriptor in below_usr.items():
        if not (root / folder).is_dir():
            raise SystemExit(f"standins: this machine has no /{folder} to hold a fresh folder")
        _mount(f"/proc/self/fd/{descriptor}", str(root / folder), _MS_BIND)
    for name in ("dev", "proc"):
        _bind(f"/{name}", root / name, writable=True)
    os.chroot(root)
    os.chdir("/")
    os.execve(BASH, [BASH, script], environment)


if __name__ == "__main__":
    _enter(Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])
