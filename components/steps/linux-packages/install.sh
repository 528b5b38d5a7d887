#!/usr/bin/env bash
# Install distribution packages by name (apt or dnf), with retries for flaky mirrors.
set -euo pipefail

read -r -a packages <<< "${GI_PARAM_PACKAGES:-}"
if [ "${#packages[@]}" -eq 0 ]; then
  echo "linux-packages: no packages given (parameter packages)" >&2
  exit 1
fi
for spec in "${packages[@]}"; do
  if ! [[ "${spec}" =~ ^[A-Za-z0-9][A-Za-z0-9.+_-]*(=[A-Za-z0-9.+:~_-]+)?$ ]]; then
    echo "linux-packages: '${spec}' is not a package name (name or name=version)" >&2
    exit 1
  fi
done

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  retry apt-get -o DPkg::Lock::Timeout=600 update
  retry apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${packages[@]}"
elif command -v dnf >/dev/null 2>&1; then
  names=()
  for spec in "${packages[@]}"; do names+=("${spec/=/-}"); done
  retry dnf install -y "${names[@]}"
else
  echo "linux-packages: no supported package manager (apt-get or dnf) found" >&2
  exit 1
fi
echo "linux-packages: installed ${packages[*]}"
