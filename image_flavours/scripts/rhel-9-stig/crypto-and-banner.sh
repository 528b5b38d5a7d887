#!/usr/bin/env bash
# Site settings the STIG leaves to each organisation: the system-wide crypto policy and
# the DoD-style login banner. Values come from the step's environment (see rhel-9-stig.yaml).
set -euo pipefail

: "${CRYPTO_POLICY:?set CRYPTO_POLICY in the step environment}"
: "${BANNER_TEXT:?set BANNER_TEXT in the step environment}"

# RHEL's update-crypto-policies switches OpenSSL, GnuTLS, NSS, OpenSSH and Kerberos at once;
# running services pick it up after a restart, hence the reboot step that follows.
current=$(update-crypto-policies --show)
if [ "${current}" != "${CRYPTO_POLICY}" ]; then
  update-crypto-policies --set "${CRYPTO_POLICY}"
fi

printf '%s\n' "${BANNER_TEXT}" > /etc/issue
printf '%s\n' "${BANNER_TEXT}" > /etc/issue.net
chown root:root /etc/issue /etc/issue.net
chmod 0644 /etc/issue /etc/issue.net
echo "crypto policy ${CRYPTO_POLICY}, login banner set"
