"""The ansible-playbook step's scripts, run with bash on this machine against stand-ins.

No network and no root: `python3`, `git`, `apt-get`, `apt-mark`, `dpkg-query` and `sleep` are
stubs that record their arguments, first on a PATH that otherwise holds only this machine's
own tools (so a real git or python3 cannot answer instead). The stub `python3 -m venv` makes a
venv whose `python -m pip install` drops a stub `ansible-playbook` into it, which records its
arguments, environment, working folder and variables file. The work root is a temporary folder
(GI_WORK_ROOT, which the engine never sets).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STEP = ROOT / "components" / "steps" / "ansible-playbook"
PLAYBOOK_DIR = ROOT / "image_flavours" / "ansible" / "ubuntu-2404"
RETRY = ROOT / "components" / "steps" / "lib" / "retry.sh"
BASH = shutil.which("bash") or "/bin/bash"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"

# Commands the stubs stand in for: the machine's own are kept off PATH.
STUBBED = ("python", "pip", "git", "apt", "dpkg", "sleep", "ansible", "dnf", "yum", "rpm")

STUBS = {
    "python3": r"""
printf 'python3 %s\n' "$*" >> "$STUB_LOG"
if [ "$1" = --version ]; then echo "Python ${STUB_PYTHON_VERSION:-3.12.3}"; exit 0; fi
if [ "$1" = -m ] && [ "$2" = venv ]; then
  if [ -n "${STUB_VENV_NEEDS_PACKAGE:-}" ] && ! grep -qx python3-venv "$STUB_STATE/dpkg.list"; then
    mkdir -p "$3"  # a half-made venv, as the real one leaves
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2
    exit 1
  fi
  mkdir -p "$3/bin"
  cp "$STUB_TEMPLATES/python" "$3/bin/python"
  exit 0
fi
exec "$REAL_PYTHON" "$@"
""",
    "apt-get": r"""
printf 'apt-get %s\n' "$*" >> "$STUB_LOG"
simulate=false; command=""; packages=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) shift ;;
    -s) simulate=true ;;
    -*) ;;
    *) if [ -z "$command" ]; then command=$1; else packages+=("$1"); fi ;;
  esac
  shift
done
case "$command" in
  update) ;;
  install)
    for package in "${packages[@]}"; do
      echo "$package" >> "$STUB_STATE/dpkg.list"
      case "$package" in
        python3-venv) echo python3.12-venv >> "$STUB_STATE/dpkg.list" ;;  # a dependency comes along
        git) echo git-man >> "$STUB_STATE/dpkg.list"; cp "$STUB_TEMPLATES/git" "$STUB_BIN/git" ;;
      esac
    done ;;
  purge)
    if $simulate; then
      for package in "${packages[@]}" ${STUB_PURGE_ALSO_REMOVES:-}; do echo "Purg $package [1.0]"; done
    else
      for package in "${packages[@]}"; do
        grep -vx "$package" "$STUB_STATE/dpkg.list" > "$STUB_STATE/dpkg.tmp" || true
        mv "$STUB_STATE/dpkg.tmp" "$STUB_STATE/dpkg.list"
      done
    fi ;;
  *) echo "apt-get stub: unexpected '$command'" >&2; exit 100 ;;
esac
""",
    "apt-mark": r"""
printf 'apt-mark %s\n' "$*" >> "$STUB_LOG"
command=$1; shift
case "$command" in
  auto) printf '%s\n' "$@" >> "$STUB_STATE/auto.list" ;;
  manual) for p in "$@"; do grep -vx "$p" "$STUB_STATE/auto.list" > "$STUB_STATE/auto.tmp" || true
            mv "$STUB_STATE/auto.tmp" "$STUB_STATE/auto.list"; done ;;
  showauto) for p in "$@"; do if grep -qx "$p" "$STUB_STATE/auto.list"; then echo "$p"; fi; done ;;
esac
""",
    "dpkg-query": r"""
printf 'dpkg-query %s\n' "$*" >> "$STUB_LOG"
while read -r package; do echo "installed $package"; done < "$STUB_STATE/dpkg.list"
""",
    "sleep": r"""
printf 'sleep %s\n' "$*" >> "$STUB_LOG"
""",
}

# A RHEL 9 or Amazon Linux 2023 machine: dnf and rpm instead of apt-get, apt-mark and dpkg-query.
RPM_STUBS = {
    "dnf": r"""
printf 'dnf %s\n' "$*" >> "$STUB_LOG"
[ "$1" = -y ] && [ "$2" = install ] || { echo "dnf stub: unexpected '$*'" >&2; exit 1; }
shift 2
for package in "$@"; do
  echo "$package" >> "$STUB_STATE/rpm.list"
  case "$package" in
    git) echo git-core >> "$STUB_STATE/rpm.list"; cp "$STUB_TEMPLATES/git" "$STUB_BIN/git" ;;
  esac
done
""",
    "rpm": r"""
printf 'rpm %s\n' "$*" >> "$STUB_LOG"
case "$1" in
  -qa) cat "$STUB_STATE/rpm.list" ;;
  -e) shift
      if [ "$1" = --test ]; then exit "${STUB_RPM_NEEDED:-0}"; fi
      for package in "$@"; do
        grep -vx "$package" "$STUB_STATE/rpm.list" > "$STUB_STATE/rpm.tmp" || true
        mv "$STUB_STATE/rpm.tmp" "$STUB_STATE/rpm.list"
      done ;;
esac
""",
}

TEMPLATES = {
    # The venv's python: pip "installs" ansible-playbook; anything else is the real Python.
    "python": r"""
printf 'venv-python %s\n' "$*" >> "$STUB_LOG"
if [ "$1" = --version ]; then echo "Python ${STUB_PYTHON_VERSION:-3.12.3}"; exit 0; fi
if [ "$1" = -m ] && [ "$2" = pip ]; then
  previous=""
  for argument in "$@"; do
    if [ "$previous" = -r ]; then cp "$argument" "$STUB_STATE/pip-requirements.txt"; fi
    previous=$argument
  done
  if [ -n "${STUB_PIP_FAILS:-}" ]; then exit 1; fi
  printf '%s\n' "$*" >> "$STUB_STATE/pip-calls"
  cp "$STUB_TEMPLATES/ansible-playbook" "$(dirname "$0")/ansible-playbook"
  cp "$STUB_TEMPLATES/ansible-galaxy" "$(dirname "$0")/ansible-galaxy"
  exit 0
fi
exec "$REAL_PYTHON" "$@"
""",
    "ansible-playbook": r"""
printf 'ansible-playbook %s\n' "$*" >> "$STUB_LOG"
printf '%s\n' "$@" > "$STUB_STATE/playbook-args"
pwd > "$STUB_STATE/playbook-cwd"
find . -type f | sort > "$STUB_STATE/playbook-files"
env | grep -E '^(ANSIBLE_|LC_ALL=|XDG_CACHE_HOME=)' | sort > "$STUB_STATE/playbook-env"
for argument in "$@"; do
  case "$argument" in @*) cp "${argument#@}" "$STUB_STATE/playbook-variables.json" ;; esac
done
if [ -n "${STUB_PLAYBOOK_MARKS_MANUAL:-}" ]; then apt-mark manual $STUB_PLAYBOOK_MARKS_MANUAL; fi
exit "${STUB_PLAYBOOK_STATUS:-0}"
""",
    "ansible-galaxy": r"""
printf 'ansible-galaxy %s\n' "$*" >> "$STUB_LOG"
pwd > "$STUB_STATE/galaxy-cwd"
env | grep -E '^ANSIBLE_(ROLES|COLLECTIONS)_PATH=' | sort > "$STUB_STATE/galaxy-env"
""",
    "git": r"""
printf 'git %s\n' "$*" >> "$STUB_LOG"
folder=.
while [ $# -gt 0 ]; do
  case "$1" in
    -C) folder=$2; shift 2 ;;
    -c) shift 2 ;;
    *) break ;;
  esac
done
command=$1; shift
case "$command" in
  clone) if [ -n "${STUB_GIT_CLONE_FAILS:-}" ]; then exit 128; fi; mkdir -p "${!#}/.git" ;;
  checkout) cp -R "$STUB_GIT_TREE/." "$folder/" ;;
  rev-parse) echo "$STUB_GIT_HEAD" ;;
  *) echo "git stub: unexpected '$command'" >&2; exit 2 ;;
esac
""",
}


def _write_script(path: Path, body: str) -> None:
    path.write_text("#!" + BASH + "\n" + body.lstrip("\n"))
    path.chmod(0o755)


@pytest.fixture(scope="session")
def tools(tmp_path_factory) -> Path:
    """This machine's commands, less those the stubs stand in for."""
    folder = tmp_path_factory.mktemp("tools")
    for source in ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        if not os.path.isdir(source):
            continue
        for name in os.listdir(source):
            target = folder / name
            if name.startswith(STUBBED) or os.path.lexists(target):
                continue
            path = os.path.join(source, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                target.symlink_to(path)
    return folder


def with_library(script: str) -> str:
    """The install script as the catalogue renders it: retry() inserted after the shebang."""
    first, _, rest = script.partition("\n")
    library = RETRY.read_text().partition("\n")[2]
    return f"{first}\n{library}{rest}"


def pack(folder: Path) -> bytes:
    """A folder as the program packs it: relative names, directories and regular files only."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Sandbox:
    """One machine's worth of stubs, state and GI_* environment for one test."""

    def __init__(self, base: Path, tools: Path):
        self.base = base
        self.bin = base / "bin"
        self.templates = base / "templates"
        self.state = base / "state"
        self.work_root = base / "var-tmp-golden-images"
        self.log = self.state / "calls.log"
        for folder in (self.bin, self.templates, self.state, base / "home"):
            folder.mkdir()
        for name, body in STUBS.items():
            _write_script(self.bin / name, body)
        for name, body in TEMPLATES.items():
            _write_script(self.templates / name, body)
        shutil.copy(self.templates / "git", self.bin / "git")
        self.log.write_text("")
        (self.state / "dpkg.list").write_text("bash\ncoreutils\npython3\n")
        (self.state / "auto.list").write_text("")
        self.git_tree = base / "repository"
        shutil.copytree(PLAYBOOK_DIR, self.git_tree)
        self.archive = self.work_root / "assets" / "asset.tar.gz"
        self.env = {
            "PATH": f"{self.bin}:{tools}",
            "HOME": str(base / "home"),
            "GI_WORK_ROOT": str(self.work_root),
            "GI_STEP": "ansible-playbook",
            "GI_PARAM_PLAYBOOK": "site.yml",
            "GI_PARAM_DIRECTORY": "ansible/ubuntu-2404",
            "GI_PARAM_GIT_URL": "",
            "GI_PARAM_GIT_COMMIT": "",
            "GI_PARAM_TAGS": "",
            "GI_PARAM_SKIP_TAGS": "",
            "GI_PARAM_VARIABLES": "{}",
            "GI_ASSET_DIRECTORY": str(self.archive),
            "GI_ASSET_DIRECTORY_SHA256": "",
            "STUB_LOG": str(self.log),
            "STUB_STATE": str(self.state),
            "STUB_TEMPLATES": str(self.templates),
            "STUB_BIN": str(self.bin),
            "STUB_GIT_TREE": str(self.git_tree),
            "STUB_GIT_HEAD": COMMIT,
            "REAL_PYTHON": sys.executable,
        }
        self.put_archive(pack(PLAYBOOK_DIR))
        locks = pack(STEP / "requirements")
        self.locks = self.work_root / "assets" / "locks.tar.gz"
        self.locks.write_bytes(locks)
        self.env.update(GI_ASSET_REQUIREMENTS=str(self.locks), GI_ASSET_REQUIREMENTS_SHA256=hashlib.sha256(locks).hexdigest())
        lib = pack(STEP / "lib")
        self.lib = self.work_root / "assets" / "lib.tar.gz"
        self.lib.write_bytes(lib)
        self.env.update(GI_ASSET_LIB=str(self.lib), GI_ASSET_LIB_SHA256=hashlib.sha256(lib).hexdigest())

    def put_archive(self, data: bytes) -> None:
        self.archive.parent.mkdir(parents=True, exist_ok=True)
        self.archive.write_bytes(data)
        self.env["GI_ASSET_DIRECTORY_SHA256"] = hashlib.sha256(data).hexdigest()

    def git_mode(self) -> None:
        self.archive.unlink()  # no playbook asset in git mode (the locks stay)
        self.env.update(GI_PARAM_DIRECTORY="", GI_ASSET_DIRECTORY="", GI_ASSET_DIRECTORY_SHA256="",
                        GI_PARAM_GIT_URL="https://git.example.com/platform/playbooks.git", GI_PARAM_GIT_COMMIT=COMMIT)

    def run(self, name: str, **env) -> subprocess.CompletedProcess:
        text = (STEP / name).read_text()
        script = self.base / name
        script.write_text(with_library(text) if name == "install.sh" else text)
        return subprocess.run([BASH, str(script)], env={**self.env, **env}, cwd=self.base,
                              capture_output=True, text=True, timeout=120, check=False)

    def calls(self, command: str = "") -> list[str]:
        lines = self.log.read_text().splitlines()
        return [line for line in lines if not command or line.split(" ", 1)[0] == command]

    def read(self, name: str) -> str:
        return (self.state / name).read_text()

    def leftovers(self) -> list[str]:
        """What the step may leave in its work root: nothing but empty folders it did not make."""
        if not self.work_root.exists():
            return []
        return sorted(str(p.relative_to(self.work_root)) for p in self.work_root.rglob("*"))


@pytest.fixture
def box(tmp_path, tools) -> Sandbox:
    return Sandbox(tmp_path, tools)


# One lock per CPython minor version the supported distributions ship: Ubuntu 24.04 (3.12),
# Debian 12 (3.11), Ubuntu 22.04 (3.10), RHEL 9 and Amazon Linux 2023 (3.9).
LOCKS = {"cp312": "2.21.", "cp311": "2.19.", "cp310": "2.17.", "cp39": "2.15."}


def lock(abi: str) -> str:
    return (STEP / "requirements" / f"{abi}.txt").read_text()


# --- The locks


def test_there_is_a_lock_for_each_python_and_no_other():
    assert sorted(p.stem for p in (STEP / "requirements").glob("*.txt")) == sorted(LOCKS)


def test_the_locks_travel_as_the_steps_own_build_asset():
    # The script alone is near the 16,000-character inline limit of an AWSTOE document
    # (REFERENCE.md), so the locks are a packed folder the build downloads and verifies.
    from components.model.assets import pack_directory
    from components.model.steps import load_catalogue

    step = load_catalogue().get("ansible-playbook")
    assert step is not None
    asset = step.assets["requirements"]
    assert asset.sha256 == pack_directory(STEP / "requirements", "ansible-playbook/requirements").sha256
    with tarfile.open(fileobj=io.BytesIO(asset.data)) as tar:
        assert sorted(tar.getnames()) == sorted(f"{abi}.txt" for abi in LOCKS)


@pytest.mark.parametrize("abi", sorted(LOCKS))
def test_each_lock_holds_an_ansible_core_that_supports_its_python(abi):
    # ansible-core's support matrix (docs.ansible.com, "Control node Python support"): 2.15 runs
    # on Python 3.9-3.11, 2.17 on 3.10-3.12, 2.19 on 3.11-3.13, 2.21 on 3.12-3.14.
    core = re.search(r"^ansible-core==(\S+) ", lock(abi), re.M)
    assert core and core.group(1).startswith(LOCKS[abi])
    python = f"{abi[2]}.{abi[3:]}"
    assert f"for CPython {python} " in lock(abi)


@pytest.mark.parametrize("abi", sorted(LOCKS))
def test_every_requirement_is_pinned_with_hashes_and_binary_ones_per_architecture(abi):
    text = lock(abi)
    entries = re.findall(r"^([a-z0-9-]+)==(\S+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
    names = {name: hashes.count("--hash=") for name, _, hashes in entries}
    requirement_lines = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert len(requirement_lines) == len(entries), "every requirement is name==version followed by its hashes"
    assert {"ansible-core", "jinja2", "pyyaml", "cryptography", "cffi", "markupsafe", "resolvelib", "packaging"} <= set(names)
    for binary in ("cryptography", "cffi", "markupsafe", "pyyaml"):
        assert names[binary] >= 2, f"{binary} needs a wheel per architecture (x86_64, aarch64)"


# --- Directory mode


def test_directory_mode_runs_the_playbook_with_tags_and_variables_then_removes_everything(box):
    variables = {"journald_max_use": "300M", "logrotate_rotate": 7}
    result = box.run("install.sh", GI_PARAM_TAGS="journald logrotate", GI_PARAM_SKIP_TAGS="motd",
                     GI_PARAM_VARIABLES=json.dumps(variables))
    assert result.returncode == 0, result.stderr

    args = box.read("playbook-args").splitlines()
    assert args[:4] == ["-i", "localhost,", "-c", "local"]
    assert args[args.index("--tags") + 1] == "journald,logrotate"
    assert args[args.index("--skip-tags") + 1] == "motd"
    extra = args[args.index("-e") + 1]
    assert extra.startswith("@") and extra.endswith(".json")
    assert json.loads(box.read("playbook-variables.json")) == variables
    assert args[-1] == "site.yml"
    # It ran in the extracted folder, which held the flavour's playbook and roles.
    files = box.read("playbook-files").splitlines()
    assert "./site.yml" in files and "./roles/ops_defaults/tasks/main.yml" in files
    env = dict(line.split("=", 1) for line in box.read("playbook-env").splitlines())
    assert env["ANSIBLE_RETRY_FILES_ENABLED"] == "False"
    assert env["ANSIBLE_NOCOWS"] == "True"
    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "False"
    assert env["LC_ALL"] == "C.UTF-8"
    work = Path(box.read("playbook-cwd").strip()).parent
    assert work.parent == box.work_root
    for key in ("ANSIBLE_LOCAL_TEMP", "ANSIBLE_REMOTE_TEMP", "ANSIBLE_HOME", "ANSIBLE_ASYNC_DIR", "XDG_CACHE_HOME"):
        assert Path(env[key]).parent == work, f"{key} is inside the work folder"
    assert env["ANSIBLE_PYTHON_INTERPRETER"] == str(box.bin / "python3")

    # ansible-core came from the hash-pinned lock, wheels only, nothing else.
    pip = [c for c in box.calls("venv-python") if " -m pip " in c]
    assert len(pip) == 1
    for flag in ("install", "--require-hashes", "--no-deps", "--only-binary=:all:", "--no-cache-dir", "-r"):
        assert f" {flag} " in pip[0]
    assert box.read("pip-requirements.txt") == lock("cp312")
    assert any(c.startswith(f"python3 -m venv {box.work_root}/ansible-venv") for c in box.calls("python3"))

    # Nothing left: venv, work folder, archive (and the emptied assets folder).
    assert box.leftovers() == []
    assert not box.calls("apt-get"), "python3 -m venv worked, so nothing was installed"
    check = box.run("check.sh")
    assert check.returncode == 0, check.stderr
    assert "no virtual environment" in check.stdout and "no playbook archive" in check.stdout


def test_without_tags_no_tag_arguments_are_passed(box):
    assert box.run("install.sh").returncode == 0
    args = box.read("playbook-args").splitlines()
    assert "--tags" not in args and "--skip-tags" not in args
    assert json.loads(box.read("playbook-variables.json")) == {}


def test_a_checksum_mismatch_fails_before_anything_runs(box):
    result = box.run("install.sh", GI_ASSET_DIRECTORY_SHA256="0" * 64)
    assert result.returncode != 0
    assert "sha256" in result.stderr and "nothing was run" in result.stderr
    assert box.calls() == [], "no python3, pip, apt-get or ansible-playbook ran"
    assert box.leftovers() == []


def _archive(*members: tarfile.TarInfo) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        site = b"- hosts: all\n  tasks: []\n"
        info = tarfile.TarInfo("site.yml")
        info.size = len(site)
        tar.addfile(info, io.BytesIO(site))
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    "member",
    [
        _member("../escaped"),
        _member("roles/../../escaped"),
        _member("/tmp/escaped"),
        _member("roles", tarfile.SYMTYPE, "/etc"),
        _member("hard", tarfile.LNKTYPE, "site.yml"),
        _member("fifo", tarfile.FIFOTYPE),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink", "fifo"],
)
def test_an_archive_with_unsafe_members_is_refused(box, member):
    box.put_archive(_archive(member))
    result = box.run("install.sh")
    assert result.returncode != 0
    assert "refused" in result.stderr
    assert box.calls() == []
    assert not (box.base / "escaped").exists() and not (box.work_root / "escaped").exists()
    assert box.leftovers() == []


@pytest.mark.parametrize("status", [2, 4])
def test_a_failing_playbook_fails_the_step_with_its_exit_code_and_still_cleans_up(box, status):
    result = box.run("install.sh", STUB_PLAYBOOK_STATUS=str(status))
    assert result.returncode == status
    assert f"failed with exit code {status}" in result.stderr
    assert box.calls("ansible-playbook")
    assert box.leftovers() == []
    assert box.run("check.sh").returncode == 0


def test_a_failing_pip_install_is_retried_then_cleaned_up(box):
    result = box.run("install.sh", STUB_PIP_FAILS="1")
    assert result.returncode != 0
    assert len([c for c in box.calls("venv-python") if " -m pip " in c]) == 5
    assert not box.calls("ansible-playbook")
    assert box.leftovers() == []


def test_a_missing_playbook_is_refused_before_python_runs(box):
    result = box.run("install.sh", GI_PARAM_PLAYBOOK="missing.yml")
    assert result.returncode != 0 and "no playbook 'missing.yml'" in result.stderr
    assert box.calls() == []
    assert box.leftovers() == []


@pytest.mark.parametrize("version, abi", [("3.11.2", "cp311"), ("3.10.12", "cp310"), ("3.9.18", "cp39")],
                         ids=["debian-12", "ubuntu-2204", "rhel-9"])
def test_the_lock_matching_the_python_found_is_installed(box, version, abi):
    result = box.run("install.sh", STUB_PYTHON_VERSION=version)
    assert result.returncode == 0, result.stderr
    assert box.read("pip-requirements.txt") == lock(abi)
    assert f"lock requirements/{abi}.txt" in result.stdout
    assert box.leftovers() == []


@pytest.mark.parametrize("version, message", [("3.13.1", "no lock in requirements/"), ("3.6.8", "too old"),
                                              ("3.7.16", "Amazon Linux 2 are not supported")])
def test_a_python_without_a_lock_is_refused(box, version, message):
    result = box.run("install.sh", STUB_PYTHON_VERSION=version)
    assert result.returncode != 0 and message in result.stderr
    assert not [c for c in box.calls("venv-python") if " -m pip " in c]
    assert box.leftovers() == []


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GI_PARAM_PLAYBOOK": "../site.yml"}, "relative path"),
        ({"GI_PARAM_PLAYBOOK": "/etc/site.yml"}, "relative path"),
        ({"GI_PARAM_PLAYBOOK": ""}, "relative path"),
        ({"GI_PARAM_TAGS": "a,b"}, "tag 'a,b'"),
        ({"GI_PARAM_SKIP_TAGS": "$(id)"}, "tag '$(id)'"),
        ({"GI_PARAM_VARIABLES": "[1, 2]"}, "JSON object"),
        ({"GI_PARAM_GIT_URL": "https://git.example.com/p.git", "GI_PARAM_GIT_COMMIT": COMMIT}, "not both"),
        ({"GI_ASSET_DIRECTORY": "", "GI_PARAM_GIT_URL": ""}, "give directory or git_url"),
        ({"GI_ASSET_DIRECTORY_SHA256": "abc"}, "64 hex digits"),
        ({"GI_ASSET_DIRECTORY": "", "GI_PARAM_GIT_URL": "https://user@git.example.com/p.git",
          "GI_PARAM_GIT_COMMIT": COMMIT}, "without credentials"),
        ({"GI_ASSET_DIRECTORY": "", "GI_PARAM_GIT_URL": "http://git.example.com/p.git",
          "GI_PARAM_GIT_COMMIT": COMMIT}, "https://"),
        ({"GI_ASSET_DIRECTORY": "", "GI_PARAM_GIT_URL": "https://git.example.com/p.git",
          "GI_PARAM_GIT_COMMIT": "main"}, "40-digit"),
    ],
    ids=["dotdot-playbook", "absolute-playbook", "no-playbook", "comma-tag", "shell-tag", "variables-list",
         "both-sources", "no-source", "bad-sha256", "url-user-info", "url-http", "commit-branch"],
)
def test_invalid_parameters_are_refused_before_anything_runs(box, env, message):
    result = box.run("install.sh", **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert box.calls() == []


def test_variables_that_are_not_json_are_refused_before_pip(box):
    result = box.run("install.sh", GI_PARAM_VARIABLES="{not json}")
    assert result.returncode != 0 and "JSON object" in result.stderr
    assert not [c for c in box.calls("venv-python") if " -m pip " in c]
    assert box.leftovers() == []


# --- Git mode


def test_git_mode_clones_and_checks_out_the_exact_commit(box):
    box.git_mode()
    result = box.run("install.sh", GI_PARAM_TAGS="journald")
    assert result.returncode == 0, result.stderr
    git = box.calls("git")
    clone = next(c for c in git if " clone " in c)
    assert clone.endswith(f"-- https://git.example.com/platform/playbooks.git {Path(box.read('playbook-cwd').strip())}")
    assert "--no-checkout" in clone
    assert any(c.endswith(f"checkout --quiet --detach {COMMIT}") for c in git)
    assert any(c.endswith("rev-parse HEAD") for c in git)
    order = [c.split(" ", 1)[0] for c in box.calls()]
    assert order.index("git") < order.index("python3"), "sources are verified before the venv is made"
    assert "./site.yml" in box.read("playbook-files").splitlines()
    assert box.read("playbook-args").splitlines()[-1] == "site.yml"
    assert box.leftovers() == []
    assert not box.calls("apt-get"), "git was there"
    assert box.run("check.sh").returncode == 0


def test_git_mode_fails_when_head_is_not_the_commit(box):
    box.git_mode()
    result = box.run("install.sh", STUB_GIT_HEAD=OTHER_COMMIT)
    assert result.returncode != 0
    assert f"checked out {OTHER_COMMIT}, expected {COMMIT}" in result.stderr
    assert not box.calls("python3") and not box.calls("ansible-playbook")
    assert box.leftovers() == []


def test_git_mode_retries_a_failing_clone(box):
    box.git_mode()
    result = box.run("install.sh", STUB_GIT_CLONE_FAILS="1")
    assert result.returncode != 0
    assert len([c for c in box.calls("git") if " clone " in c]) == 5
    assert len(box.calls("sleep")) == 5
    assert box.leftovers() == []


# --- Packages installed for the step, and purged again


def test_missing_git_is_installed_and_purged_afterwards(box):
    box.git_mode()
    (box.bin / "git").unlink()
    result = box.run("install.sh")
    assert result.returncode == 0, result.stderr
    apt = box.calls("apt-get")
    assert any(" update" in c for c in apt)
    assert any(c.endswith("install -y --no-install-recommends git") for c in apt)
    purge = [c for c in apt if " purge -y " in c and " -s " not in c]
    assert len(purge) == 1 and purge[0].endswith("purge -y git git-man")
    assert box.read("dpkg.list").split() == ["bash", "coreutils", "python3"]


def test_python3_venv_is_installed_when_venv_fails_and_purged_afterwards(box):
    result = box.run("install.sh", STUB_VENV_NEEDS_PACKAGE="1")
    assert result.returncode == 0, result.stderr
    apt = box.calls("apt-get")
    assert any(c.endswith("install -y --no-install-recommends python3-venv") for c in apt)
    assert [c for c in apt if " purge -y " in c and " -s " not in c][0].endswith("purge -y python3-venv python3.12-venv")
    assert len([c for c in box.calls("python3") if " -m venv " in c]) == 2
    assert box.read("dpkg.list").split() == ["bash", "coreutils", "python3"]
    assert box.leftovers() == []


def test_packages_are_purged_even_when_the_playbook_fails(box):
    result = box.run("install.sh", STUB_VENV_NEEDS_PACKAGE="1", STUB_PLAYBOOK_STATUS="2")
    assert result.returncode == 2
    assert any(" purge -y " in c and " -s " not in c for c in box.calls("apt-get"))


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"STUB_PLAYBOOK_MARKS_MANUAL": "git git-man"}, "the playbook keeps"),
        ({"STUB_PURGE_ALSO_REMOVES": "app-needing-git"}, "would also remove app-needing-git"),
    ],
    ids=["marked-manual-by-the-playbook", "needed-by-another-package"],
)
def test_packages_the_image_now_needs_are_not_purged(box, env, reason):
    box.git_mode()
    (box.bin / "git").unlink()
    result = box.run("install.sh", **env)
    assert result.returncode == 0, result.stderr
    assert reason in result.stdout + result.stderr
    assert not any(" purge -y " in c and " -s " not in c for c in box.calls("apt-get"))
    assert "git" in box.read("dpkg.list").split()


# --- The check


@pytest.mark.parametrize("leftover", ["venv", "work", "archive", "locks", "helpers", "on-path"])
def test_the_check_fails_on_anything_left_behind(box, leftover):
    box.archive.unlink()
    box.locks.unlink()
    box.lib.unlink()
    venv_bin = box.work_root / "ansible-venv" / "bin"
    if leftover == "venv":
        venv_bin.mkdir(parents=True)
    elif leftover == "work":
        (box.work_root / "ansible-step.AbCd1234" / "src").mkdir(parents=True)
    elif leftover == "archive":
        box.put_archive(b"left")
    elif leftover == "locks":
        box.locks.write_bytes(b"left")
    elif leftover == "helpers":
        box.lib.write_bytes(b"left")
    else:
        venv_bin.mkdir(parents=True)
        _write_script(venv_bin / "ansible-playbook", "exit 0\n")
    result = box.run("check.sh", PATH=f"{venv_bin}:{box.env['PATH']}")
    assert result.returncode == 1
    assert "left behind" in result.stderr or "is on PATH" in result.stderr


def test_the_check_passes_on_a_clean_instance_and_says_what_it_checked(box):
    box.archive.unlink()
    box.locks.unlink()
    box.lib.unlink()
    shutil.rmtree(box.work_root)
    result = box.run("check.sh")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"ansible-playbook: no virtual environment at {box.work_root}/ansible-venv",
        f"ansible-playbook: no working folder (sources, clone, variables) under {box.work_root}",
        f"ansible-playbook: no playbook archive at {box.archive}",
        f"ansible-playbook: no locks archive at {box.locks}",
        f"ansible-playbook: no helpers archive at {box.lib}",
        "ansible-playbook: no ansible-playbook on PATH",
    ]


# --- The example playbook


def _tasks() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(PLAYBOOK_DIR.rglob("*.yml")):
        document = yaml.safe_load(path.read_text())
        if "tasks" in path.parts or "handlers" in path.parts:
            found += [(str(path.relative_to(PLAYBOOK_DIR)), task) for task in document]
    return found


TASK_KEYWORDS = {"name", "tags", "when", "notify", "register", "become", "loop", "vars", "changed_when", "failed_when"}


def test_the_example_playbook_uses_only_builtin_modules_and_tags_every_task():
    tasks = _tasks()
    assert tasks
    tags = set()
    for where, task in tasks:
        modules = [key for key in task if key not in TASK_KEYWORDS]
        assert len(modules) == 1 and modules[0].startswith("ansible.builtin."), f"{where}: {task.get('name')}"
        assert task.get("name"), f"{where}: every task is named"
        if "handlers" not in where:
            assert task.get("tags"), f"{where}: '{task['name']}' has tags"
            tags.update(task["tags"])
    assert {"journald", "motd", "logrotate"} <= tags
    site = yaml.safe_load((PLAYBOOK_DIR / "site.yml").read_text())
    assert [role["role"] for play in site for role in play["roles"]] == ["ops_defaults"]


def test_the_example_playbook_stays_clear_of_linux_baseline():
    """linux-baseline owns the banners and the SSH server; the example leaves them alone."""
    text = "\n".join(p.read_text() for p in PLAYBOOK_DIR.rglob("*") if p.is_file())
    for owned in ("/etc/issue", "sshd_config", "sysctl", "login.defs", "modprobe"):
        assert owned not in text


# --- vars_file, Galaxy requirements and pip requirements


def test_vars_file_galaxy_requirements_and_pip_requirements(box, tmp_path):
    folder = tmp_path / "playbook"
    shutil.copytree(PLAYBOOK_DIR, folder)
    (folder / "vars").mkdir()
    (folder / "vars" / "image.yml").write_text("journald_max_use: 200M\n")
    (folder / "requirements.yml").write_text("collections:\n  - name: community.general\n    version: 9.5.0\n")
    box.put_archive(pack(folder))
    result = box.run("install.sh", GI_PARAM_VARS_FILE="vars/image.yml", GI_PARAM_GALAXY_REQUIREMENTS="requirements.yml",
                     GI_PARAM_PIP_REQUIREMENTS="jmespath==1.0.1 netaddr==1.3.0",
                     GI_PARAM_VARIABLES='{"journald_max_use": "500M"}')
    assert result.returncode == 0, result.stderr

    # The lock first (hash-checked), then the flavour's pins into the same venv, wheels only.
    pip = box.read("pip-calls").splitlines()
    assert len(pip) == 2 and "--require-hashes" in pip[0]
    assert pip[1].endswith("--only-binary=:all: jmespath==1.0.1 netaddr==1.3.0")
    # Galaxy ran from the sources' folder with the requirements file, installing into the work folder.
    galaxy = box.calls("ansible-galaxy")
    assert galaxy == ["ansible-galaxy install -r requirements.yml"]
    work = Path(box.read("playbook-cwd").strip()).parent
    assert box.read("galaxy-cwd").strip() == str(work / "src")
    env = dict(line.split("=", 1) for line in box.read("galaxy-env").splitlines())
    assert env["ANSIBLE_COLLECTIONS_PATH"] == str(work / "collections")
    assert env["ANSIBLE_ROLES_PATH"].split(":")[0] == str(work / "roles")
    # Later -e wins (ansible-playbook's variable precedence): the file first, the flavour's variables after.
    args = box.read("playbook-args").splitlines()
    extras = [args[i + 1] for i, a in enumerate(args) if a == "-e"]
    assert extras[0] == "@vars/image.yml" and extras[1].startswith(f"@{work}/")
    assert box.calls("ansible-galaxy")[0] and box.calls("ansible-playbook")
    assert box.leftovers() == [], "collections, roles and the venv went with the work folder"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GI_PARAM_VARS_FILE": "../secrets.yml"}, "vars_file '../secrets.yml' must be a relative path"),
        ({"GI_PARAM_GALAXY_REQUIREMENTS": "/etc/req.yml"}, "galaxy_requirements '/etc/req.yml' must be"),
        ({"GI_PARAM_PIP_REQUIREMENTS": "jmespath>=1.0"}, "exact pin"),
        ({"GI_PARAM_PIP_REQUIREMENTS": "--index-url=https://evil.example.com"}, "exact pin"),
    ],
    ids=["dotdot-vars", "absolute-galaxy", "unpinned-pip", "pip-option"],
)
def test_invalid_extra_files_and_pins_are_refused_before_anything_runs(box, env, message):
    result = box.run("install.sh", **env)
    assert result.returncode != 0 and message in result.stderr
    assert box.calls() == []


def test_a_vars_file_missing_from_the_sources_is_refused_before_python_runs(box):
    result = box.run("install.sh", GI_PARAM_VARS_FILE="vars/none.yml")
    assert result.returncode != 0 and "no vars_file 'vars/none.yml' in the sources" in result.stderr
    assert not box.calls("python3")
    assert box.leftovers() == []


# --- RHEL 9 and Amazon Linux 2023: dnf and rpm


def rpm_machine(box: Sandbox) -> None:
    for name in ("apt-get", "apt-mark", "dpkg-query"):
        (box.bin / name).unlink()
    for name, body in RPM_STUBS.items():
        _write_script(box.bin / name, body)
    (box.state / "rpm.list").write_text("bash\ncoreutils\npython3\n")


def test_on_dnf_missing_git_is_installed_and_removed_again(box):
    rpm_machine(box)
    box.git_mode()
    (box.bin / "git").unlink()
    result = box.run("install.sh", STUB_PYTHON_VERSION="3.9.18")
    assert result.returncode == 0, result.stderr
    assert box.calls("dnf") == ["dnf -y install git"]
    assert "rpm -e git git-core" in box.calls("rpm") or "rpm -e git-core git" in box.calls("rpm")
    assert box.read("rpm.list").split() == ["bash", "coreutils", "python3"]
    assert box.read("pip-requirements.txt") == lock("cp39")


def test_on_dnf_packages_something_now_needs_are_kept(box):
    rpm_machine(box)
    box.git_mode()
    (box.bin / "git").unlink()
    result = box.run("install.sh", STUB_PYTHON_VERSION="3.9.18", STUB_RPM_NEEDED="1")
    assert result.returncode == 0, result.stderr
    assert "other packages now need them" in result.stderr
    assert "git" in box.read("rpm.list").split()


def test_a_tampered_helpers_archive_stops_the_step_before_anything_is_installed(box):
    box.git_mode()
    (box.bin / "git").unlink()  # git would have to be installed with the helpers
    box.lib.write_bytes(pack(box.base / "templates"))
    result = box.run("install.sh")
    assert result.returncode != 0 and "the helpers archive has sha256" in result.stderr
    assert not box.calls("apt-get") and not box.calls("python3")
