# Sourced by install.sh (not run on its own). Uses install.sh's work, venv, python_minor,
# requirements_archive, requirements_sha256, pip_requirements, fail and retry.
# shellcheck shell=bash disable=SC2154

install_ansible_core() {
  local actual requirements
  # --- ansible-core: every wheel pinned by sha256, from the lock for this Python in the step's own
  # build asset (requirements/ of the step's folder, packed, downloaded and verified like a directory).
  [[ "${requirements_sha256}" =~ ^[0-9a-f]{64}$ ]] || fail "GI_ASSET_REQUIREMENTS_SHA256 must be the locks' sha256 (64 hex digits)"
  [ -f "${requirements_archive}" ] || fail "the locks archive ${requirements_archive} is missing"
  actual=$(sha256sum "${requirements_archive}" | awk '{ print $1 }')
  [ "${actual}" = "${requirements_sha256}" ] \
    || fail "the locks archive has sha256 ${actual}, expected ${requirements_sha256}; nothing was installed"
  requirements="${work}/locks/cp${python_minor/./}.txt"
  mkdir -m 0700 "${work}/locks"
  tar -xzf "${requirements_archive}" -C "${work}/locks" --no-same-owner --no-same-permissions "cp${python_minor/./}.txt" \
    || fail "no lock cp${python_minor/./}.txt in the locks archive"
  retry "${venv}/bin/python" -m pip install --progress-bar off --no-cache-dir --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary=:all: -r "${requirements}"
  # The flavour's own pins (filters and lookups run in the venv, e.g. jmespath for json_query): exact
  # versions, wheels only, with their dependencies; not hash-pinned.
  if [ "${#pip_requirements[@]}" -gt 0 ]; then
    echo "ansible-playbook: pip install ${pip_requirements[*]}"
    retry "${venv}/bin/python" -m pip install --progress-bar off --no-cache-dir --disable-pip-version-check --no-input \
      --only-binary=:all: "${pip_requirements[@]}"
  fi
}
