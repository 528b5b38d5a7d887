#!/usr/bin/env bash
# Upgrade every installed package to the newest available version (apt or dnf).
set -euo pipefail

read -r -a held <<< "${GI_PARAM_EXCLUDE:-}"

if command -v apt-get >/dev/null 2>&1; then
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
elif command -v dnf >/dev/null 2>&1; then
  dnf_opts=(-y)
  for name in "${held[@]}"; do dnf_opts+=("--exclude=${name}"); done
  retry dnf "${dnf_opts[@]}" upgrade --refresh
else
  echo "no supported package manager (apt-get or dnf) found" >&2
  exit 1
fi

if [ -f /var/run/reboot-required ] || { command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null; }; then
  echo "updates installed; a restart is required and follows this step"
fi
