#!/usr/bin/env bash
# Prove no package upgrade is left pending.
set -euo pipefail

read -r -a held <<< "${GI_PARAM_EXCLUDE:-}"

manager=""
for candidate in apt-get dnf yum zypper; do
  if command -v "${candidate}" >/dev/null 2>&1; then manager="${candidate}"; break; fi
done

case "${manager}" in
  apt-get)
    apt-get -o DPkg::Lock::Timeout=600 update >/dev/null
    pending=$(apt list --upgradable 2>/dev/null | grep -F '/' || true)
    ;;
  dnf|yum)
    # check-update exits 100 when updates are available, 0 when there are none.
    set +e
    pending=$("${manager}" -q check-update)
    status=$?
    set -e
    if [ "$status" -ne 0 ] && [ "$status" -ne 100 ]; then
      echo "${manager} check-update failed with exit code ${status}" >&2
      exit 1
    fi
    ;;
  zypper)
    # Table rows of available updates start with "v |"; the third column is the package.
    listing=$(zypper --non-interactive --quiet list-updates)
    pending=$(printf '%s\n' "$listing" | awk -F'|' '/^v / { gsub(/ /, "", $3); print $3 }')
    ;;
  *)
    echo "no supported package manager (apt-get, dnf, yum or zypper) found" >&2
    exit 1
    ;;
esac

for name in "${held[@]}"; do
  pending=$(printf '%s\n' "$pending" | grep -v "^${name}\([/.]\|$\)" || true)
done
pending=$(printf '%s\n' "$pending" | sed '/^$/d')
if [ -n "$pending" ]; then
  echo "updates still pending:" >&2
  printf '%s\n' "$pending" >&2
  exit 1
fi
echo "os-updates: no pending package updates"
