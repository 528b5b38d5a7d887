#!/usr/bin/env bash
# Places a build asset (a file or folder of the repository) at GI_PARAM_DESTINATION after
# verifying the archive's sha256: S3Download (AWS) verifies nothing, so this script does.
set -euo pipefail

archive="${GI_ASSET_SOURCE:?GI_ASSET_SOURCE is not set}"
expected="${GI_ASSET_SOURCE_SHA256:?GI_ASSET_SOURCE_SHA256 is not set}"
kind="${GI_ASSET_SOURCE_KIND:-directory}"
destination="${GI_PARAM_DESTINATION:?GI_PARAM_DESTINATION is not set}"
owner="${GI_PARAM_OWNER:-}"
mode="${GI_PARAM_MODE:-}"
if [ -z "${owner}" ]; then owner=root:root; fi

fail() { echo "file: $*" >&2; exit 1; }

case "${destination}" in
  /*) ;;
  *) fail "destination '${destination}' is not an absolute path" ;;
esac
[ -f "${archive}" ] || fail "the archive ${archive} was not downloaded"
actual=$(sha256sum "${archive}" | awk '{ print $1 }')
[ "${actual}" = "${expected}" ] || fail "the archive's sha256 is ${actual}, expected ${expected}"

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
# The archive holds relative regular files and folders only (packed by the program); extract
# without owners or modes of its own.
tar -xzf "${archive}" -C "${work}" --no-same-owner --no-same-permissions

if [ "${kind}" = "file" ]; then
  mapfile -t entries < <(find "${work}" -mindepth 1 -maxdepth 1)
  [ "${#entries[@]}" -eq 1 ] && [ -f "${entries[0]}" ] || fail "the archive does not hold exactly one file"
  mkdir -p "$(dirname "${destination}")"
  install -m "${mode:-0644}" "${entries[0]}" "${destination}"
  chown "${owner}" "${destination}"
else
  mkdir -p "${destination}"
  cp -R "${work}/." "${destination}/"
  chown -R "${owner}" "${destination}"
  find "${destination}" -type d -exec chmod 0755 {} +
  find "${destination}" -type f -exec chmod "${mode:-0644}" {} +
fi
rm -f "${archive}"
echo "file: ${GI_PARAM_SOURCE:-asset} placed at ${destination} (sha256 ${expected})"
