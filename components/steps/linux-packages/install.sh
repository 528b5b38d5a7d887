#!/usr/bin/env bash
# Install distribution packages by name (apt, dnf, yum or zypper), with retries for flaky mirrors.
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

# The first package manager found decides: apt-get (Debian, Ubuntu), dnf (RHEL 8/9,
# Amazon Linux 2023), yum (Amazon Linux 2 has no dnf), zypper (SUSE).
manager=""
for candidate in apt-get dnf yum zypper; do
  if command -v "${candidate}" >/dev/null 2>&1; then manager="${candidate}"; break; fi
done

# A pinned version is written name=version in the flavour; each manager has its own form.
names=()
for spec in "${packages[@]}"; do
  case "${manager}" in
    dnf|yum) names+=("${spec/=/-}") ;;   # nginx-1.24.0-1.el9
    *) names+=("${spec}") ;;              # apt and zypper: nginx=1.24.0-2ubuntu7
  esac
done

case "${manager}" in
  apt-get)
    export DEBIAN_FRONTEND=noninteractive
    retry apt-get -o DPkg::Lock::Timeout=600 update
    retry apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${names[@]}"
    ;;
  dnf) retry dnf install -y "${names[@]}" ;;
  yum) retry yum install -y "${names[@]}" ;;
  zypper)
    retry zypper --non-interactive refresh
    retry zypper --non-interactive install --no-recommends "${names[@]}"
    ;;
  *)
    echo "linux-packages: no supported package manager (apt-get, dnf, yum or zypper) found" >&2
    exit 1
    ;;
esac
echo "linux-packages: installed ${packages[*]} with ${manager}"
