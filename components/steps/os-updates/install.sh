#!/usr/bin/env bash
# Upgrade every installed package to the newest available version (apt, dnf, yum or zypper).
set -euo pipefail

read -r -a held <<< "${GI_PARAM_EXCLUDE:-}"

# The first package manager found decides: apt-get (Debian, Ubuntu), dnf (RHEL 8/9,
# Amazon Linux 2023), yum (Amazon Linux 2 has no dnf), zypper (SUSE).
manager=""
for candidate in apt-get dnf yum zypper; do
  if command -v "${candidate}" >/dev/null 2>&1; then manager="${candidate}"; break; fi
done

case "${manager}" in
  apt-get)
    export DEBIAN_FRONTEND=noninteractive
    # Ubuntu's phased updates would otherwise leave packages behind on purpose.
    apt_opts=(-y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
              -o APT::Get::Always-Include-Phased-Updates=true)
    if [ "${#held[@]}" -gt 0 ]; then apt-mark hold "${held[@]}"; fi
    # cloud-init may still hold the dpkg lock right after boot.
    retry apt-get -o DPkg::Lock::Timeout=600 update
    retry apt-get -o DPkg::Lock::Timeout=600 "${apt_opts[@]}" dist-upgrade
    apt-get -y autoremove --purge
    if [ "${#held[@]}" -gt 0 ]; then apt-mark unhold "${held[@]}"; fi
    ;;
  dnf|yum)
    opts=(-y)
    for name in "${held[@]}"; do opts+=("--exclude=${name}"); done
    if [ "${manager}" = dnf ]; then
      retry dnf "${opts[@]}" upgrade --refresh
    else
      retry yum "${opts[@]}" update
    fi
    ;;
  zypper)
    # A package lock holds a package back for the update, then is removed again.
    if [ "${#held[@]}" -gt 0 ]; then zypper --non-interactive addlock "${held[@]}"; fi
    retry zypper --non-interactive refresh
    retry zypper --non-interactive update --auto-agree-with-licenses
    if [ "${#held[@]}" -gt 0 ]; then zypper --non-interactive removelock "${held[@]}"; fi
    ;;
  *)
    echo "no supported package manager (apt-get, dnf, yum or zypper) found" >&2
    exit 1
    ;;
esac

if [ -f /var/run/reboot-required ] || { command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null; }; then
  echo "updates installed; a restart is required and follows this step"
fi
