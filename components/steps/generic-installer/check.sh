#!/usr/bin/env bash
# Prove the installer left behind what it promised (parameter creates).
set -euo pipefail

creates="${GI_PARAM_CREATES:-}"
if [ -z "${creates}" ]; then
  echo "generic-installer: parameter creates is required" >&2
  exit 1
fi
if [ ! -e "${creates}" ]; then
  echo "generic-installer: ${GI_PARAM_NAME:-} is not installed: ${creates} does not exist" >&2
  exit 1
fi
echo "generic-installer: ${GI_PARAM_NAME:-} installed (${creates} exists)"
