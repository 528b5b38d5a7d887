#!/usr/bin/env bash
# Prove every setting of the Linux CIS Level 1 baseline is in force (running values and files).
set -euo pipefail

banner="${GI_PARAM_BANNER:?linux-baseline: GI_PARAM_BANNER is required}"
ip_forwarding="${GI_PARAM_IP_FORWARDING:-false}"
failures=0
fail() { echo "linux-baseline: CIS $1: $2" >&2; failures=$((failures + 1)); }

# CIS 1.1.1.1 cramfs, 1.1.1.2 freevxfs, 1.1.1.3 hfs, 1.1.1.4 hfsplus, 1.1.1.5 jffs2, 1.1.1.9 usb-storage
for module in cramfs freevxfs hfs hfsplus jffs2 usb-storage; do
  if ! modprobe -n -v "${module}" 2>/dev/null | grep -Eq 'install[[:space:]]+/bin/(false|true)'; then
    fail 1.1.1.x "module ${module} can still be loaded"
  fi
  if lsmod | awk '{ print $1 }' | grep -qx "${module//-/_}"; then
    fail 1.1.1.x "module ${module} is loaded"
  fi
done

expect_sysctl() {  # expect_sysctl ID KEY VALUE
  local actual
  actual=$(sysctl -n "$2" 2>/dev/null || echo missing)
  if [ "${actual}" != "$3" ]; then fail "$1" "$2 is ${actual}, expected $3"; fi
}
expect_sysctl 1.5.1 kernel.randomize_va_space 2
expect_sysctl 1.5.2 kernel.yama.ptrace_scope 1
expect_sysctl 1.5.3 fs.suid_dumpable 0
if [ "${ip_forwarding}" != "true" ]; then
  expect_sysctl 3.3.1 net.ipv4.ip_forward 0
  expect_sysctl 3.3.1 net.ipv6.conf.all.forwarding 0
fi
for scope in all default; do
  expect_sysctl 3.3.2 "net.ipv4.conf.${scope}.send_redirects" 0
  expect_sysctl 3.3.5 "net.ipv4.conf.${scope}.accept_redirects" 0
  expect_sysctl 3.3.5 "net.ipv6.conf.${scope}.accept_redirects" 0
  expect_sysctl 3.3.6 "net.ipv4.conf.${scope}.secure_redirects" 0
  expect_sysctl 3.3.7 "net.ipv4.conf.${scope}.rp_filter" 1
  expect_sysctl 3.3.8 "net.ipv4.conf.${scope}.accept_source_route" 0
  expect_sysctl 3.3.8 "net.ipv6.conf.${scope}.accept_source_route" 0
  expect_sysctl 3.3.9 "net.ipv4.conf.${scope}.log_martians" 1
done
expect_sysctl 3.3.3 net.ipv4.icmp_ignore_bogus_error_responses 1
expect_sysctl 3.3.4 net.ipv4.icmp_echo_ignore_broadcasts 1
expect_sysctl 3.3.10 net.ipv4.tcp_syncookies 1
if [ ! -f /etc/sysctl.d/99-zzz-golden-images-cis.conf ]; then
  fail 3.3.x "/etc/sysctl.d/99-zzz-golden-images-cis.conf is missing (settings would not survive a reboot)"
fi

# CIS 1.5.3
grep -Eqs '^\*[[:space:]]+hard[[:space:]]+core[[:space:]]+0' /etc/security/limits.d/golden-images-cis.conf \
  || fail 1.5.3 "no '* hard core 0' limit"

# CIS 1.5.5
if systemctl list-unit-files apport.service --no-legend | grep -q apport; then
  if systemctl is-active --quiet apport.service; then fail 1.5.5 "apport is active"; fi
  if [ "$(systemctl is-enabled apport.service 2>/dev/null || true)" != "masked" ]; then fail 1.5.5 "apport is not masked"; fi
fi

# CIS 1.3.1.1
if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='${db:Status-Status}' apparmor 2>/dev/null | grep -qx installed || fail 1.3.1.1 "apparmor is not installed"
fi

# CIS 1.6.2, 1.6.3, 1.6.5, 1.6.6
for file in /etc/issue /etc/issue.net; do
  if [ "$(cat "${file}" 2>/dev/null || true)" != "${banner}" ]; then fail 1.6.2 "${file} does not hold the banner"; fi
  if [ "$(stat -c '%U:%G %a' "${file}" 2>/dev/null || true)" != "root:root 644" ]; then fail 1.6.5 "${file} is not root:root 0644"; fi
done

# CIS 5.1.x: the SSH server's effective configuration.
if [ -f /etc/ssh/sshd_config ]; then
  install -d -m 0755 /run/sshd  # sshd -T needs its runtime directory, which is gone after a reboot
  effective=$(sshd -T | tr '[:upper:]' '[:lower:]')
  expect_sshd() {  # expect_sshd ID "key value"
    grep -qx "$2" <<< "${effective}" || fail "$1" "sshd does not have '$2'"
  }
  expect_sshd 5.1.5 "banner /etc/issue.net"
  expect_sshd 5.1.7 "clientaliveinterval 15"
  expect_sshd 5.1.7 "clientalivecountmax 3"
  expect_sshd 5.1.8 "disableforwarding yes"
  expect_sshd 5.1.10 "hostbasedauthentication no"
  expect_sshd 5.1.11 "ignorerhosts yes"
  expect_sshd 5.1.13 "logingracetime 60"
  expect_sshd 5.1.14 "loglevel verbose"
  expect_sshd 5.1.16 "maxauthtries 4"
  expect_sshd 5.1.17 "maxsessions 10"
  expect_sshd 5.1.18 "maxstartups 10:30:60"
  expect_sshd 5.1.19 "permitemptypasswords no"
  expect_sshd 5.1.20 "permitrootlogin no"
  expect_sshd 5.1.21 "permituserenvironment no"
  expect_sshd 5.1.22 "usepam yes"
  if [ "$(stat -c '%U:%G %a' /etc/ssh/sshd_config)" != "root:root 600" ]; then fail 5.1.1 "/etc/ssh/sshd_config is not root:root 0600"; fi
fi

# CIS 5.4.1.3, 5.4.1.4, 5.4.3.3
grep -Eq '^[[:space:]]*PASS_WARN_AGE[[:space:]]+7$' /etc/login.defs || fail 5.4.1.3 "PASS_WARN_AGE is not 7"
grep -Eq '^[[:space:]]*ENCRYPT_METHOD[[:space:]]+(YESCRYPT|SHA512)$' /etc/login.defs || fail 5.4.1.4 "ENCRYPT_METHOD is not YESCRYPT or SHA512"
grep -Eq '^[[:space:]]*UMASK[[:space:]]+027$' /etc/login.defs || fail 5.4.3.3 "UMASK is not 027"

# CIS 7.1.1-7.1.8: no more permissive than 0644 (passwd, group) or 0640 (shadow, gshadow), owned by root.
check_mode() {  # check_mode ID FILE MAXMODE GROUPS
  [ -e "$2" ] || return 0
  local mode owner group
  mode=$(stat -c '%a' "$2"); owner=$(stat -c '%U' "$2"); group=$(stat -c '%G' "$2")
  if (( (8#${mode} & ~8#$3) != 0 )); then fail "$1" "$2 is mode ${mode}, at most $3 allowed"; fi
  if [ "${owner}" != "root" ] || ! grep -qw "${group}" <<< "$4"; then fail "$1" "$2 is owned by ${owner}:${group}"; fi
}
check_mode 7.1.1 /etc/passwd 644 root
check_mode 7.1.2 /etc/passwd- 644 root
check_mode 7.1.3 /etc/group 644 root
check_mode 7.1.4 /etc/group- 644 root
check_mode 7.1.5 /etc/shadow 640 "root shadow"
check_mode 7.1.6 /etc/shadow- 640 "root shadow"
check_mode 7.1.7 /etc/gshadow 640 "root shadow"
check_mode 7.1.8 /etc/gshadow- 640 "root shadow"

if [ "${failures}" -gt 0 ]; then
  echo "linux-baseline: ${failures} setting(s) not in force" >&2
  exit 1
fi
echo "linux-baseline: all settings in force"
