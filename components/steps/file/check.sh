#!/usr/bin/env bash
# Proves the file (or the folder) is at its destination, with the owner and mode asked for.
set -euo pipefail

destination="${GI_PARAM_DESTINATION:?GI_PARAM_DESTINATION is not set}"
kind="${GI_ASSET_SOURCE_KIND:-directory}"
owner="${GI_PARAM_OWNER:-}"
mode="${GI_PARAM_MODE:-}"
if [ -z "${owner}" ]; then owner=root:root; fi
case "${owner}" in *:*) ;; *) owner="${owner}:$(id -gn "${owner}")" ;; esac

fail() { echo "file check: $*" >&2; exit 1; }

if [ "${kind}" = "file" ]; then
  [ -f "${destination}" ] || fail "${destination} is not a file"
  targets=("${destination}")
else
  [ -d "${destination}" ] || fail "${destination} is not a folder"
  mapfile -t targets < <(find "${destination}" -type f)
  [ "${#targets[@]}" -gt 0 ] || fail "${destination} holds no files"
fi
want_mode=$(printf '%o' "$((8#${mode:-0644}))")
for path in "${targets[@]}"; do
  [ "$(stat -c '%U:%G' "${path}")" = "${owner}" ] || fail "${path} is owned by $(stat -c '%U:%G' "${path}"), expected ${owner}"
  [ "$(stat -c '%a' "${path}")" = "${want_mode}" ] || fail "${path} has mode $(stat -c '%a' "${path}"), expected ${want_mode}"
done
echo "file check: ${destination} present (${#targets[@]} file(s)), ${owner}, mode ${want_mode}"
