#!/usr/bin/env bash
# Remove build leftovers and caches so the image is small and ready for generalization.
set -euo pipefail

# This project's own downloads and working files.
rm -rf /var/tmp/golden-images

# Package caches (the packages are installed).
if command -v apt-get >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 -y autoremove --purge
  apt-get clean
elif command -v dnf >/dev/null 2>&1; then
  dnf -y autoremove
  dnf clean all
fi

# Temporary files from before this build (the build's own may still be used by the build service).
find /tmp /var/tmp -mindepth 1 -maxdepth 1 -mtime +1 -exec rm -rf {} +

# Rotated logs and the journal; live logs are kept for the rest of the build.
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
# journalctl --rotate asks the running journald: only where systemd is the init system
# (sd_booted(3): /run/systemd/system exists), not in a chroot or container without it.
if command -v journalctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  journalctl --rotate
  journalctl --vacuum-time=1s
fi

# Shell history of root and every user.
rm -f /root/.bash_history
find /home -mindepth 2 -maxdepth 2 -name .bash_history -delete

# Every instance gets its own machine id at first boot.
if [ "${GI_PARAM_RESET_MACHINE_ID:-true}" = "true" ] && [ -f /etc/machine-id ]; then
  truncate -s 0 /etc/machine-id
  if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
    rm -f /var/lib/dbus/machine-id
    ln -s /etc/machine-id /var/lib/dbus/machine-id
  fi
fi
echo "cleanup: done"
