#!/usr/bin/env bash
# Run an Ansible playbook against this build instance (ansible-playbook -i localhost, -c local)
# with ansible-core from hash-pinned wheels in a throwaway virtual environment. The playbook
# comes from a sha256-verified archive of a flavour folder or from a git repository at an exact
# commit. Whatever the outcome, the venv, the sources, the archive and any packages this script
# installed are removed, and the script exits with the playbook's status.
set -euo pipefail

# GI_WORK_ROOT exists for the tests only; the engine never sets it.
work_root="${GI_WORK_ROOT:-/var/tmp/golden-images}"
venv="${work_root}/ansible-venv"
playbook="${GI_PARAM_PLAYBOOK:-}"
git_url="${GI_PARAM_GIT_URL:-}"
git_commit="${GI_PARAM_GIT_COMMIT:-}"
archive="${GI_ASSET_DIRECTORY:-}"
archive_sha256="${GI_ASSET_DIRECTORY_SHA256:-}"
requirements_archive="${GI_ASSET_REQUIREMENTS:-}"
# shellcheck disable=SC2034 # read by lib/ansible.sh
requirements_sha256="${GI_ASSET_REQUIREMENTS_SHA256:-}"
lib_archive="${GI_ASSET_LIB:-}"
lib_sha256="${GI_ASSET_LIB_SHA256:-}"
variables="${GI_PARAM_VARIABLES:-}"
vars_file="${GI_PARAM_VARS_FILE:-}"
galaxy_requirements="${GI_PARAM_GALAXY_REQUIREMENTS:-}"
read -r -a pip_requirements <<< "${GI_PARAM_PIP_REQUIREMENTS:-}"
if [ -z "${variables}" ]; then variables='{}'; fi
read -r -a tags <<< "${GI_PARAM_TAGS:-}"
read -r -a skip_tags <<< "${GI_PARAM_SKIP_TAGS:-}"

fail() {
  echo "ansible-playbook: $*" >&2
  exit 1
}

# --- Parameters. The loader validated them; this script runs as root and checks them again.
# A relative path of segments that do not start with a dot: no absolute paths, no '..'.
relative_path='^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$'
if ! [[ "${playbook}" =~ ${relative_path} ]]; then
  fail "playbook '${playbook}' must be a relative path inside the directory or repository (no '..', not absolute)"
fi
for name in vars_file galaxy_requirements; do
  value="${!name}"
  if [ -n "${value}" ] && ! [[ "${value}" =~ ${relative_path} ]]; then
    fail "${name} '${value}' must be a relative path inside the directory or repository (no '..', not absolute)"
  fi
done
# name==version, extras allowed: an exact pin, nothing pip could read as an option or a URL.
for requirement in "${pip_requirements[@]}"; do
  [[ "${requirement}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9][A-Za-z0-9.+!_-]*$ ]] \
    || fail "pip requirement '${requirement}' must be an exact pin like jmespath==1.0.1"
done
for tag in "${tags[@]}" "${skip_tags[@]}"; do
  [[ "${tag}" =~ ^[A-Za-z0-9_.:-]+$ ]] || fail "tag '${tag}' may hold only letters, digits and . _ : -"
done
if [ -n "${archive}" ] && [ -n "${git_url}" ]; then
  fail "give either directory or git_url, not both"
elif [ -n "${archive}" ]; then
  mode=directory
  [[ "${archive_sha256}" =~ ^[0-9a-f]{64}$ ]] || fail "GI_ASSET_DIRECTORY_SHA256 must be the archive's sha256 (64 hex digits)"
elif [ -n "${git_url}" ]; then
  mode=git
  # https only, no user-info (credentials), no query or fragment.
  if ! [[ "${git_url}" =~ ^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*)+$ ]]; then
    fail "git_url '${git_url}' must be an https:// URL without credentials"
  fi
  [[ "${git_commit}" =~ ^[0-9a-f]{40}$ ]] || fail "git_commit must be a full 40-digit commit id with git_url"
else
  fail "give directory or git_url"
fi
if ! [[ "${variables}" =~ ^[[:space:]]*\{.*\}[[:space:]]*$ ]]; then
  fail "variables must be a JSON object, got: ${variables}"
fi

# --- Everything this script creates lives in the venv or in one private directory, removed by cleanup().
install -d -m 0755 "${work_root}"
rm -rf "${venv}"  # a leftover of an interrupted run
work=$(mktemp -d "${work_root}/ansible-step.XXXXXXXX")
src="${work}/src"
# pip and anything else that caches keeps it here, so it goes with the work directory.
export XDG_CACHE_HOME="${work}/cache"
# shellcheck disable=SC2034 # filled and read by lib/packages.sh
installed_packages=()

# Replaced by lib/packages.sh once it is verified; until then nothing was installed.
# shellcheck disable=SC2329 # called by cleanup, the EXIT trap
purge_packages() { :; }

# shellcheck disable=SC2329 # runs as the EXIT trap
cleanup() {
  local status=$? failed=0
  set +e
  cd /
  rm -rf -- "${venv}" "${work}" || failed=1
  if [ "${mode}" = directory ]; then rm -f -- "${archive}" || failed=1; fi
  for file in "${requirements_archive}" "${lib_archive}"; do
    if [ -n "${file}" ]; then rm -f -- "${file}" || failed=1; fi
  done
  for folder in "${archive}" "${requirements_archive}" "${lib_archive}"; do
    if [ -n "${folder}" ]; then rmdir -- "$(dirname -- "${folder}")" 2>/dev/null; fi  # the assets folder, when nothing else is in it
  done
  purge_packages || failed=1
  if [ "${failed}" -ne 0 ]; then
    echo "ansible-playbook: cleanup failed; the check will name what is left" >&2
    if [ "${status}" -eq 0 ]; then status=1; fi
  fi
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The step's own helpers (lib/: install_packages, purge_packages, install_ansible_core), shipped as a
# build asset because the script would not fit in one AWSTOE document; verified before use.
[[ "${lib_sha256}" =~ ^[0-9a-f]{64}$ ]] || fail "GI_ASSET_LIB_SHA256 must be the helpers' sha256 (64 hex digits)"
[ -f "${lib_archive}" ] || fail "the helpers archive ${lib_archive} is missing"
actual=$(sha256sum "${lib_archive}" | awk '{ print $1 }')
[ "${actual}" = "${lib_sha256}" ] || fail "the helpers archive has sha256 ${actual}, expected ${lib_sha256}; nothing was run"
mkdir -m 0700 "${work}/lib"
tar -xzf "${lib_archive}" -C "${work}/lib" --no-same-owner --no-same-permissions packages.sh ansible.sh
# shellcheck disable=SC1091 # verified above; tested on its own
. "${work}/lib/packages.sh"
# shellcheck disable=SC1091
. "${work}/lib/ansible.sh"

# --- The playbook's sources, verified before anything of them is used.
if [ "${mode}" = directory ]; then
  [ -f "${archive}" ] || fail "archive ${archive} is missing"
  actual=$(sha256sum "${archive}" | awk '{ print $1 }')
  if [ "${actual}" != "${archive_sha256}" ]; then
    fail "archive ${archive} has sha256 ${actual}, expected ${archive_sha256}; nothing was run"
  fi
  # Only regular files and directories with relative names that stay inside the extraction folder.
  # (Listings go to files: `tar | grep -q` under pipefail can fail on tar's SIGPIPE.)
  tar --absolute-names -tvzf "${archive}" > "${work}/archive.types"
  tar --absolute-names -tzf "${archive}" > "${work}/archive.names"
  if grep -v '^[-d]' "${work}/archive.types"; then
    fail "archive holds links or special files (above); refused"
  fi
  if grep -E '^/|(^|/)\.\.(/|$)' "${work}/archive.names"; then
    fail "archive holds absolute paths or '..' (above); refused"
  fi
  mkdir -m 0700 "${src}"
  tar -xzf "${archive}" -C "${src}" --no-same-owner --no-same-permissions
  echo "ansible-playbook: archive ${archive} verified (sha256 ${actual}) and extracted (${GI_PARAM_DIRECTORY:-directory})"
else
  if ! command -v git >/dev/null 2>&1; then install_packages git; fi
  export GIT_TERMINAL_PROMPT=0  # a public repository: never wait for credentials
  # shellcheck disable=SC2329 # run through retry
  clone() {
    rm -rf "${src}"
    git clone --quiet --no-checkout -- "${git_url}" "${src}"
  }
  retry clone
  git -C "${src}" -c advice.detachedHead=false checkout --quiet --detach "${git_commit}" \
    || fail "commit ${git_commit} is not in ${git_url}"
  head=$(git -C "${src}" rev-parse HEAD)
  if [ "${head}" != "${git_commit}" ]; then
    fail "checked out ${head}, expected ${git_commit}; nothing was run"
  fi
  echo "ansible-playbook: ${git_url} checked out at ${head}"
fi
playbook_file=$(realpath -e -- "${src}/${playbook}" 2>/dev/null) || fail "no playbook '${playbook}' in the sources"
case "${playbook_file}" in
  "$(realpath -- "${src}")"/*) [ -f "${playbook_file}" ] || fail "'${playbook}' is not a file" ;;
  *) fail "playbook '${playbook}' resolves outside the sources" ;;
esac

for name in vars_file galaxy_requirements; do
  value="${!name}"
  if [ -n "${value}" ]; then
    file=$(realpath -e -- "${src}/${value}" 2>/dev/null) || fail "no ${name} '${value}' in the sources"
    case "${file}" in
      "$(realpath -- "${src}")"/*) [ -f "${file}" ] || fail "${name} '${value}' is not a file" ;;
      *) fail "${name} '${value}' resolves outside the sources" ;;
    esac
  fi
done

# --- Python with venv support (Debian and Ubuntu ship venv's ensurepip in python3-venv; RHEL and
# Amazon Linux in python3-pip-wheel, a dependency of python3). One lock per CPython minor version:
# ansible-core supports only a few Pythons per release (see README.md).
if ! command -v python3 >/dev/null 2>&1; then install_packages python3 apt:python3-venv; fi
python_version=$(python3 --version 2>&1)
[[ "${python_version}" =~ ^Python\ (3\.[0-9]+)\. ]] || fail "cannot tell the version of python3 ('${python_version}')"
python_minor="${BASH_REMATCH[1]}"
case "${python_minor}" in
  3.9 | 3.10 | 3.11 | 3.12) ;;
  3.[0-8])
    fail "Python ${python_minor} is too old for any supported ansible-core (3.9 at least; RHEL 8 and Amazon Linux 2 are not supported)" ;;
  *)
    fail "Python ${python_minor} has no lock in requirements/ (cp39 to cp312); see README.md to add one" ;;
esac
if ! python3 -m venv "${venv}"; then
  rm -rf "${venv}"
  install_packages apt:python3-venv rpm:python3-pip-wheel
  python3 -m venv "${venv}"
fi
echo "ansible-playbook: $("${venv}/bin/python" --version 2>&1), lock requirements/cp${python_minor/./}.txt"
printf '%s\n' "${variables}" > "${work}/variables.json"
python3 -c 'import json, sys; isinstance(json.load(open(sys.argv[1])), dict) or sys.exit("not a JSON object")' \
  "${work}/variables.json" || fail "variables must be a JSON object, got: ${variables}"

# --- ansible-core from this Python's hash-pinned lock, then the flavour's pip_requirements.
install_ansible_core

# --- The playbook, run from its own folder so its ansible.cfg and relative paths apply.
export LC_ALL=C.UTF-8  # ansible-core refuses to run under a locale that is not UTF-8
export ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_NOCOWS=True
export ANSIBLE_NOCOLOR=True
export ANSIBLE_HOST_KEY_CHECKING=False
export ANSIBLE_HOME="${work}/ansible-home"
export ANSIBLE_LOCAL_TEMP="${work}/ansible-tmp"
export ANSIBLE_REMOTE_TEMP="${work}/ansible-remote-tmp"
export ANSIBLE_ASYNC_DIR="${work}/ansible-async"
# Modules run with the system Python (its apt bindings included), not the venv's.
ANSIBLE_PYTHON_INTERPRETER=$(command -v python3)
export ANSIBLE_PYTHON_INTERPRETER
export ANSIBLE_COLLECTIONS_PATH="${work}/collections"
export ANSIBLE_ROLES_PATH="${work}/roles:${src}/roles"
cd "${src}"
# Galaxy roles and collections into the private folder, fetched from Galaxy (or the servers the
# file names) at build time: the build needs network access to them.
if [ -n "${galaxy_requirements}" ]; then
  echo "ansible-playbook: ansible-galaxy install -r ${galaxy_requirements}"
  # Into the first folder of ANSIBLE_ROLES_PATH and ANSIBLE_COLLECTIONS_PATH: the private folder.
  retry "${venv}/bin/ansible-galaxy" install -r "${galaxy_requirements}"
fi
arguments=(-i 'localhost,' -c local)
if [ -n "${vars_file}" ]; then arguments+=(-e "@${vars_file}"); fi
arguments+=(-e "@${work}/variables.json")
if [ "${#tags[@]}" -gt 0 ]; then arguments+=(--tags "$(IFS=,; echo "${tags[*]}")"); fi
if [ "${#skip_tags[@]}" -gt 0 ]; then arguments+=(--skip-tags "$(IFS=,; echo "${skip_tags[*]}")"); fi
echo "ansible-playbook: ${venv}/bin/ansible-playbook ${arguments[*]} ${playbook}"
status=0
"${venv}/bin/ansible-playbook" "${arguments[@]}" "${playbook}" || status=$?
if [ "${status}" -ne 0 ]; then
  echo "ansible-playbook: the playbook failed with exit code ${status}" >&2
fi
exit "${status}"
