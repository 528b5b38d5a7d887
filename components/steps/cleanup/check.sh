#!/usr/bin/env bash
# Prove the build's leftovers are gone.
set -euo pipefail

failed=0
if [ -e /var/tmp/golden-images ]; then
  echo "cleanup: /var/tmp/golden-images is still in the image" >&2
  failed=1
fi
if [ -d /var/cache/apt/archives ] && [ -n "$(find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -print -quit)" ]; then
  echo "cleanup: downloaded .deb files left in /var/cache/apt/archives" >&2
  failed=1
fi
if [ -n "$(find /var/log -type f -name '*.gz' -print -quit)" ]; then
  echo "cleanup: rotated logs left in /var/log" >&2
  failed=1
fi
if [ -s /root/.bash_history ]; then
  echo "cleanup: /root/.bash_history is not empty" >&2
  failed=1
fi
if [ "${GI_PARAM_RESET_MACHINE_ID:-true}" = "true" ] && [ -s /etc/machine-id ]; then
  echo "cleanup: /etc/machine-id is set; it must be empty so each instance gets its own" >&2
  failed=1
fi
[ "${failed}" -eq 0 ] || exit 1
echo "cleanup: no downloads, package caches, rotated logs or history left"
