#!/usr/bin/env bash
# Download a team's deb/rpm over https with retries, verify its sha256, then install it.
set -euo pipefail

name="${GI_PARAM_NAME:-}"
url="${GI_PARAM_URL:-}"
path="${GI_PARAM_PATH:-}"
expected="${GI_PARAM_SHA256:-}"
expected="${expected,,}"
type="${GI_PARAM_TYPE:-}"
creates="${GI_PARAM_CREATES:-}"
if [ -z "${name}" ] || [ -z "${url}${path}" ] || [ -z "${creates}" ] || ! [[ "${expected}" =~ ^[0-9a-f]{64}$ ]]; then
  echo "generic-installer: name, url or path, sha256 (64 hex digits) and creates are required" >&2
  exit 1
fi
case "${type}" in
  deb | rpm) ;;
  *) echo "generic-installer: type '${type}' cannot run on Linux (use deb or rpm)" >&2; exit 1 ;;
esac
if [ -n "${url}" ] && [[ "${url}" != https://* ]]; then
  echo "generic-installer: ${url} is not an https URL" >&2
  exit 1
fi
if [ -e "${creates}" ]; then
  echo "generic-installer: ${name} already installed (${creates} exists)"
  exit 0
fi

folder="/var/tmp/golden-images/downloads/generic-installer-${name}"
mkdir -p "${folder}"
if [ -n "${path}" ]; then
  # Placed by an artifact step: verified again here, whatever fetched it.
  if [ ! -f "${path}" ]; then
    echo "generic-installer: ${path} does not exist (an artifact step places it first)" >&2
    exit 1
  fi
  file="${path}"
  url="${path}"
else
  file="${folder}/$(basename "${url}")"
  retry curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 --output "${file}" "${url}"
fi
actual=$(sha256sum "${file}" | cut -d' ' -f1)
if [ "${actual}" != "${expected}" ]; then
  rm -f "${file}"
  echo "generic-installer: sha256 mismatch for ${url} (expected ${expected}, got ${actual}); nothing was run" >&2
  exit 1
fi
echo "generic-installer: ${file} verified (sha256 ${actual})"

if [ "${type}" = "deb" ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "generic-installer: a deb needs apt-get" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  retry apt-get -o DPkg::Lock::Timeout=600 install -y "${file}"
else
  command -v dnf >/dev/null 2>&1 || { echo "generic-installer: an rpm needs dnf" >&2; exit 1; }
  retry dnf install -y "${file}"
fi
if [ ! -e "${creates}" ]; then
  echo "generic-installer: ${name} installed but ${creates} does not exist" >&2
  exit 1
fi
rm -rf "${folder}"
echo "generic-installer: ${name} installed (${creates} exists)"
