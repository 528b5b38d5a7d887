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
variables="${GI_PARAM_VARIABLES:-}"
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
installed_packages=()

# Purge the distribution packages this script installed, unless the playbook now needs them: it
# marked them manually installed (apt does so when asked to install a package that is present), or
# purging them would also remove packages it installed. Those stay, marked automatic.
# shellcheck disable=SC2329 # called by cleanup, the EXIT trap
purge_packages() {
  if [ "${#installed_packages[@]}" -eq 0 ]; then return 0; fi
  local ours removing extra
  mapfile -t ours < <(apt-mark showauto "${installed_packages[@]}" | sort -u)
  if [ "${#ours[@]}" -eq 0 ]; then
    echo "ansible-playbook: the playbook keeps ${installed_packages[*]}; nothing to purge"
    return 0
  fi
  mapfile -t removing < <(apt-get -s purge "${ours[@]}" | awk '$1 == "Purg" { sub(/:.*/, "", $2); print $2 }' | sort -u)
  mapfile -t extra < <(comm -23 <(printf '%s\n' "${removing[@]}") <(printf '%s\n' "${ours[@]}"))
  if [ "${#extra[@]}" -gt 0 ]; then
    echo "ansible-playbook: not purging ${ours[*]}: that would also remove ${extra[*]}" >&2
    return 0
  fi
  echo "ansible-playbook: purging the packages it installed: ${ours[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y "${ours[@]}"
}

# shellcheck disable=SC2329 # runs as the EXIT trap
cleanup() {
  local status=$? failed=0
  set +e
  cd /
  rm -rf -- "${venv}" "${work}" || failed=1
  if [ "${mode}" = directory ]; then
    rm -f -- "${archive}" || failed=1
    rmdir -- "$(dirname -- "${archive}")" 2>/dev/null  # the assets folder, when nothing else is in it
  fi
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

# apt-get install, remembering which packages were not installed before (dependencies included).
# They are marked automatic, so that a playbook installing one of them marks it manual again.
apt_updated=false
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    fail "$* missing and only apt-get (Debian/Ubuntu) is supported to install them"
  fi
  export DEBIAN_FRONTEND=noninteractive
  local before="${work}/packages.before" after="${work}/packages.after"
  dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }' | sort -u > "${before}"
  if [ "${apt_updated}" = false ]; then
    retry apt-get -o DPkg::Lock::Timeout=600 update
    apt_updated=true
  fi
  retry apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"
  dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }' | sort -u > "${after}"
  local new
  mapfile -t new < <(comm -13 "${before}" "${after}")
  if [ "${#new[@]}" -gt 0 ]; then
    apt-mark auto "${new[@]}" >/dev/null
    installed_packages+=("${new[@]}")
  fi
}

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
  if ! command -v git >/dev/null 2>&1; then apt_install git; fi
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

# --- Python with venv support (Ubuntu ships venv's ensurepip in python3-venv).
if ! command -v python3 >/dev/null 2>&1; then apt_install python3 python3-venv; fi
if ! python3 -m venv "${venv}"; then
  rm -rf "${venv}"
  apt_install python3-venv
  python3 -m venv "${venv}"
fi
python_version=$("${venv}/bin/python" --version 2>&1)
if [[ "${python_version}" != "Python 3.12."* ]]; then
  fail "${python_version} found; requirements.txt is locked for CPython 3.12 (see README.md to lock another)"
fi
printf '%s\n' "${variables}" > "${work}/variables.json"
python3 -c 'import json, sys; isinstance(json.load(open(sys.argv[1])), dict) or sys.exit("not a JSON object")' \
  "${work}/variables.json" || fail "variables must be a JSON object, got: ${variables}"

# --- ansible-core: every wheel pinned by sha256. Generated from requirements.txt by lock.sh; a test
# keeps the two equal.
requirements="${work}/requirements.txt"
cat > "${requirements}" <<'REQUIREMENTS'
# ansible-core==2.21.5 and its dependency closure for CPython 3.12 on manylinux x86_64 and aarch64
# (glibc 2.17 to 2.39; Ubuntu 24.04 has 2.39), with the sha256 of every wheel pip may choose.
# Generated by tools/lock.sh with pip download from PyPI; do not edit by hand (see README.md).
ansible-core==2.21.5 \
    --hash=sha256:08886f9f3e23d129aa98a01271c4a47833516e1cb7c737a246788cb474f41222
cffi==2.1.1 \
    --hash=sha256:68e62fe11f30d5ca8289242866f0a5291402d8529ca2178ab8afc5c9694ae890 \
    --hash=sha256:c1453022f490d2459a11819d83ad1d586e9ff65a12ac3e705ffebd46d3685dcf
cryptography==50.0.2 \
    --hash=sha256:4061c0079120205fb760c58acab6443e217307dcf05e3702cf970e0689972856 \
    --hash=sha256:630ebfea3bf689d075f82316324ff7433dc447fe6bc1bfc76524b74b4a9567d2 \
    --hash=sha256:79def8d059362e7831389ed3be0ecdf58a89386e1271e35dd9f5af84e81bffd0 \
    --hash=sha256:87e9ce85beb6b328ba370cc6e6aea483c92617b4c95b1d33a49297eb662bfb04 \
    --hash=sha256:9dab55f57c74c3cad24c323bacbbd04be4705ba6eb0d92e920b1fc4837ed5079 \
    --hash=sha256:f9f6143a8c75945eb960d9eb98905a441394abfa24afaae239d514ffb2586480
jinja2==3.1.6 \
    --hash=sha256:85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67
markupsafe==3.0.4 \
    --hash=sha256:6a45c3d514f2436064db00d7fc8778d888f0236ebfed649b53d13a59e69ad51b \
    --hash=sha256:8e124f974786f831d6043728e38296969d3579db8896fe004682f5758e613581
packaging==26.4 \
    --hash=sha256:81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2
pycparser==3.12 \
    --hash=sha256:a076f3f489b39b43ed13563a1dafe42447445bec2e294154ec5c57fcdda4c85e
pyyaml==6.0.4 \
    --hash=sha256:45e37dd647db9d67b757444c74060c064ace5fdaa08f42bf4fda3812275d423e \
    --hash=sha256:93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0
resolvelib==1.2.1 \
    --hash=sha256:fb06b66c8da04172d9e72a21d7d06186d8919e32ae5ab5cdf5b9d920be805ac2
REQUIREMENTS
retry "${venv}/bin/python" -m pip install --progress-bar off --no-cache-dir --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary=:all: -r "${requirements}"

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
arguments=(-i 'localhost,' -c local -e "@${work}/variables.json")
if [ "${#tags[@]}" -gt 0 ]; then arguments+=(--tags "$(IFS=,; echo "${tags[*]}")"); fi
if [ "${#skip_tags[@]}" -gt 0 ]; then arguments+=(--skip-tags "$(IFS=,; echo "${skip_tags[*]}")"); fi
cd "${src}"
echo "ansible-playbook: ${venv}/bin/ansible-playbook ${arguments[*]} ${playbook}"
status=0
"${venv}/bin/ansible-playbook" "${arguments[@]}" "${playbook}" || status=$?
if [ "${status}" -ne 0 ]; then
  echo "ansible-playbook: the playbook failed with exit code ${status}" >&2
fi
exit "${status}"
