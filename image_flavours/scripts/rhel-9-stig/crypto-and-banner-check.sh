#!/usr/bin/env bash
# Proves the site settings hold in the image: crypto policy and banner as configured.
set -euo pipefail

policy=$(update-crypto-policies --show)
if [ "${policy}" != "${CRYPTO_POLICY}" ]; then
  echo "crypto policy is ${policy}, expected ${CRYPTO_POLICY}" >&2
  exit 1
fi
if [ "$(cat /etc/issue)" != "${BANNER_TEXT}" ]; then
  echo "/etc/issue does not hold the configured banner" >&2
  exit 1
fi
echo "crypto policy ${policy} and banner in force"
