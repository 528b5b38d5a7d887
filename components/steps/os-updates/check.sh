#!/usr/bin/env bash
# Prove no package upgrade is left pending.
set -euo pipefail

read -r -a held <<< "${GI_PARAM_EXCLUDE:-}"

if command -v apt-get >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 update >/dev/null
  pending=$(apt list --upgradable 2>/dev/null | grep -F '/' || true)
elif command -v dnf >/dev/null 2>&1; then
  set +e
  pending=$(dnf -q check-update)
  status=$?
  set -e
  if [ "$status" -ne 0 ] && [ "$status" -ne 100 ]; then
    echo "dnf check-update failed with exit code ${status}" >&2
    exit 1
  fi
else
  echo "no supported package manager (apt-get or dnf) found" >&2
  exit 1
fi

for name in "${held[@]}"; do
  pending=$(printf '%s\n' "$pending" | grep -v "^${name}[/.]" || true)
done
pending=$(printf '%s\n' "$pending" | sed '/^$/d')
if [ -n "$pending" ]; then
  echo "updates still pending:" >&2
  printf '%s\n' "$pending" >&2
  exit 1
fi
echo "os-updates: no pending package updates"
