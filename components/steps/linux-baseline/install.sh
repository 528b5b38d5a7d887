#!/usr/bin/env bash
# Apply the Linux CIS Level 1 (Server) baseline. Every block names the benchmark item it implements.
set -euo pipefail

banner="${GI_PARAM_BANNER:?linux-baseline: GI_PARAM_BANNER is required}"
ip_forwarding="${GI_PARAM_IP_FORWARDING:-false}"

# CIS 1.1.1.1 cramfs, 1.1.1.2 freevxfs, 1.1.1.3 hfs, 1.1.1.4 hfsplus, 1.1.1.5 jffs2,
# 1.1.1.9 usb-storage: these kernel modules are not available.
modules=(cramfs freevxfs hfs hfsplus jffs2 usb-storage)
{
  echo "# golden-images linux-baseline (CIS 1.1.1.x)"
  for module in "${modules[@]}"; do
    echo "install ${module} /bin/false"
    echo "blacklist ${module}"
  done
} > /etc/modprobe.d/golden-images-cis.conf
chmod 0644 /etc/modprobe.d/golden-images-cis.conf
for module in "${modules[@]}"; do
  if lsmod | awk '{ print $1 }' | grep -qx "${module//-/_}"; then
    modprobe -r "${module}"
  fi
done

# CIS 1.5.1 ASLR, 1.5.2 ptrace_scope, 1.5.3 setuid core dumps; network parameters: CIS 3.3.1 (unless
# ip_forwarding), 3.3.2, 3.3.3, 3.3.4, 3.3.5, 3.3.6, 3.3.7, 3.3.8, 3.3.9, 3.3.10.
sysctl_file=/etc/sysctl.d/99-zzz-golden-images-cis.conf
{
  echo "# golden-images linux-baseline; named to sort last so nothing overrides it"
  echo "kernel.randomize_va_space = 2"
  echo "kernel.yama.ptrace_scope = 1"
  echo "fs.suid_dumpable = 0"
  if [ "${ip_forwarding}" != "true" ]; then
    echo "net.ipv4.ip_forward = 0"
    echo "net.ipv6.conf.all.forwarding = 0"
  fi
  echo "net.ipv4.conf.all.send_redirects = 0"
  echo "net.ipv4.conf.default.send_redirects = 0"
  echo "net.ipv4.icmp_ignore_bogus_error_responses = 1"
  echo "net.ipv4.icmp_echo_ignore_broadcasts = 1"
  echo "net.ipv4.conf.all.accept_redirects = 0"
  echo "net.ipv4.conf.default.accept_redirects = 0"
  echo "net.ipv6.conf.all.accept_redirects = 0"
  echo "net.ipv6.conf.default.accept_redirects = 0"
  echo "net.ipv4.conf.all.secure_redirects = 0"
  echo "net.ipv4.conf.default.secure_redirects = 0"
  echo "net.ipv4.conf.all.rp_filter = 1"
  echo "net.ipv4.conf.default.rp_filter = 1"
  echo "net.ipv4.conf.all.accept_source_route = 0"
  echo "net.ipv4.conf.default.accept_source_route = 0"
  echo "net.ipv6.conf.all.accept_source_route = 0"
  echo "net.ipv6.conf.default.accept_source_route = 0"
  echo "net.ipv4.conf.all.log_martians = 1"
  echo "net.ipv4.conf.default.log_martians = 1"
  echo "net.ipv4.tcp_syncookies = 1"
} > "${sysctl_file}"
chmod 0644 "${sysctl_file}"
sysctl --system >/dev/null

# CIS 1.5.3: core dumps are restricted.
printf '%s\n' "# golden-images linux-baseline (CIS 1.5.3)" "* hard core 0" > /etc/security/limits.d/golden-images-cis.conf
if [ -d /etc/systemd ]; then
  mkdir -p /etc/systemd/coredump.conf.d
  printf '%s\n' "[Coredump]" "Storage=none" "ProcessSizeMax=0" > /etc/systemd/coredump.conf.d/golden-images-cis.conf
fi

# CIS 1.5.5: automatic error reporting (apport) is not enabled.
if [ -f /etc/default/apport ]; then
  sed -i 's/^enabled=.*/enabled=0/' /etc/default/apport
  grep -q '^enabled=0' /etc/default/apport || echo 'enabled=0' >> /etc/default/apport
fi
if systemctl list-unit-files apport.service --no-legend | grep -q apport; then
  systemctl stop apport.service
  systemctl mask apport.service
fi

# CIS 1.3.1.1: AppArmor is installed (Debian family; the RHEL family uses SELinux).
if command -v apt-get >/dev/null 2>&1 && ! dpkg-query -W -f='${db:Status-Status}' apparmor 2>/dev/null | grep -qx installed; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y apparmor
fi

# CIS 1.6.2, 1.6.3: login warning banners without OS details; CIS 1.6.5, 1.6.6: their permissions.
for file in /etc/issue /etc/issue.net; do
  printf '%s\n' "${banner}" > "${file}"
  chown root:root "${file}"
  chmod 0644 "${file}"
done

# CIS 5.1.5, 5.1.7, 5.1.8, 5.1.10, 5.1.11, 5.1.13, 5.1.14, 5.1.16, 5.1.17, 5.1.18, 5.1.19, 5.1.20,
# 5.1.21, 5.1.22: SSH server. sshd keeps the first value it reads; this drop-in sorts before others.
ssh_dropin=/etc/ssh/sshd_config.d/10-golden-images-cis.conf
if [ -f /etc/ssh/sshd_config ]; then
  if ! grep -Eq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config; then
    sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config
  fi
  mkdir -p /etc/ssh/sshd_config.d
  cat > "${ssh_dropin}" <<'SSHD'
# golden-images linux-baseline: CIS 5.1.x
Banner /etc/issue.net
ClientAliveInterval 15
ClientAliveCountMax 3
DisableForwarding yes
HostbasedAuthentication no
IgnoreRhosts yes
LoginGraceTime 60
LogLevel VERBOSE
MaxAuthTries 4
MaxSessions 10
MaxStartups 10:30:60
PermitEmptyPasswords no
PermitRootLogin no
PermitUserEnvironment no
UsePAM yes
SSHD
  # CIS 5.1.1: permissions on the SSH server configuration.
  chown root:root /etc/ssh/sshd_config "${ssh_dropin}"
  chmod 0600 /etc/ssh/sshd_config "${ssh_dropin}"
  # sshd refuses to test its configuration without its privilege separation directory,
  # which only exists once the service has run (socket activation may not have started it).
  install -d -m 0755 /run/sshd
  sshd -t
  for unit in ssh.service sshd.service; do
    if systemctl list-unit-files "${unit}" --no-legend | grep -q "${unit}"; then
      systemctl try-reload-or-restart "${unit}"
    fi
  done
fi

# CIS 5.4.1.3 password expiry warning, 5.4.1.4 strong hashing, 5.4.3.3 default umask (login.defs).
set_login_def() {
  if grep -Eq "^[[:space:]]*$1[[:space:]]" /etc/login.defs; then
    sed -i -E "s/^[[:space:]]*$1[[:space:]].*/$1 $2/" /etc/login.defs
  else
    echo "$1 $2" >> /etc/login.defs
  fi
}
set_login_def PASS_WARN_AGE 7
if ! grep -Eq '^[[:space:]]*ENCRYPT_METHOD[[:space:]]+(YESCRYPT|SHA512)' /etc/login.defs; then
  set_login_def ENCRYPT_METHOD SHA512
fi
set_login_def UMASK 027

# CIS 7.1.1, 7.1.2, 7.1.3, 7.1.4, 7.1.5, 7.1.6, 7.1.7, 7.1.8: permissions on the account files.
shadow_group=root
if getent group shadow >/dev/null; then shadow_group=shadow; fi
for file in /etc/passwd /etc/passwd- /etc/group /etc/group-; do
  if [ -e "${file}" ]; then chown root:root "${file}"; chmod u-x,go-wx "${file}"; fi
done
for file in /etc/shadow /etc/shadow- /etc/gshadow /etc/gshadow-; do
  if [ -e "${file}" ]; then chown "root:${shadow_group}" "${file}"; chmod u-x,g-wx,o-rwx "${file}"; fi
done

echo "linux-baseline: applied"
