#!/usr/bin/env bash
# The renderer fetched the file (S3Download / File customizer): the build and the check both prove it is in place, intact when a sha256 was given.
set -euo pipefail

destination="${GI_PARAM_DESTINATION:-}"
expected="${GI_PARAM_SHA256:-}"
if [ ! -f "${destination}" ]; then
  echo "artifact: ${GI_PARAM_SOURCE:-} was not placed at ${destination}" >&2
  exit 1
fi
if [ -n "${expected}" ]; then
  actual=$(sha256sum "${destination}" | cut -d' ' -f1)
  if [ "${actual}" != "${expected}" ]; then
    rm -f "${destination}"
    echo "artifact: sha256 mismatch for ${GI_PARAM_SOURCE:-} (expected ${expected}, got ${actual}); file removed" >&2
    exit 1
  fi
fi
echo "artifact: ${GI_PARAM_SOURCE:-} at ${destination}${expected:+ (sha256 verified)}"
