#!/usr/bin/env bash
# Prove every requested package is installed (at the requested version, when one is given).
set -euo pipefail

read -r -a packages <<< "${GI_PARAM_PACKAGES:-}"
if [ "${#packages[@]}" -eq 0 ]; then
  echo "linux-packages: no packages given (parameter packages)" >&2
  exit 1
fi

failed=0
for spec in "${packages[@]}"; do
  name="${spec%%=*}"
  wanted=""
  if [[ "${spec}" == *=* ]]; then wanted="${spec#*=}"; fi
  if command -v dpkg-query >/dev/null 2>&1; then
    status=$(dpkg-query -W -f='${db:Status-Status}' "${name}" 2>/dev/null || true)
    installed=$(dpkg-query -W -f='${Version}' "${name}" 2>/dev/null || true)
    if [ "${status}" != "installed" ]; then installed=""; fi
    versions=("${installed}")
  elif command -v rpm >/dev/null 2>&1; then
    # dnf, yum and zypper all install into the rpm database.
    if rpm -q "${name}" >/dev/null 2>&1; then
      installed=$(rpm -q --qf '%{VERSION}-%{RELEASE}' "${name}")
      # A pin may name the version, version-release, or epoch:version-release.
      versions=("${installed}" "$(rpm -q --qf '%{VERSION}' "${name}")"
                "$(rpm -q --qf '%{EPOCHNUM}:%{VERSION}-%{RELEASE}' "${name}")")
    else
      installed=""
      versions=()
    fi
  else
    echo "linux-packages: neither dpkg nor rpm found" >&2
    exit 1
  fi
  matched=false
  for version in "${versions[@]}"; do
    if [ "${version}" = "${wanted}" ]; then matched=true; fi
  done
  if [ -z "${installed}" ]; then
    echo "linux-packages: ${name} is not installed" >&2
    failed=1
  elif [ -n "${wanted}" ] && ! "${matched}"; then
    echo "linux-packages: ${name} is ${installed}, expected ${wanted}" >&2
    failed=1
  else
    echo "linux-packages: ${name} ${installed}"
  fi
done
exit "${failed}"
