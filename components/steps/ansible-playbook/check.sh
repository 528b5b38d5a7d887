#!/usr/bin/env bash
# Prove nothing of the step is left behind: no venv, no extracted sources or clone, no archive,
# no ansible-playbook from the venv on PATH. (What the playbook itself did is its own to test.)
set -euo pipefail

# GI_WORK_ROOT exists for the tests only; the engine never sets it.
work_root="${GI_WORK_ROOT:-/var/tmp/golden-images}"
venv="${work_root}/ansible-venv"
archive="${GI_ASSET_DIRECTORY:-}"
failed=0

if [ -e "${venv}" ]; then
  echo "ansible-playbook: the virtual environment ${venv} is left behind" >&2
  failed=1
else
  echo "ansible-playbook: no virtual environment at ${venv}"
fi

leftovers=()
if [ -d "${work_root}" ]; then
  mapfile -t leftovers < <(find "${work_root}" -mindepth 1 -maxdepth 1 -name 'ansible-step.*')
fi
if [ "${#leftovers[@]}" -gt 0 ]; then
  echo "ansible-playbook: working folders (sources, clone, variables) are left behind: ${leftovers[*]}" >&2
  failed=1
else
  echo "ansible-playbook: no working folder (sources, clone, variables) under ${work_root}"
fi

if [ -n "${archive}" ] && [ -e "${archive}" ]; then
  echo "ansible-playbook: the playbook archive ${archive} is left behind" >&2
  failed=1
elif [ -n "${archive}" ]; then
  echo "ansible-playbook: no playbook archive at ${archive}"
fi
for pair in "locks ${GI_ASSET_REQUIREMENTS:-}" "helpers ${GI_ASSET_LIB:-}"; do
  what=${pair%% *} file=${pair#* }
  if [ -n "${file}" ] && [ -e "${file}" ]; then
    echo "ansible-playbook: the ${what} archive ${file} is left behind" >&2
    failed=1
  elif [ -n "${file}" ]; then
    echo "ansible-playbook: no ${what} archive at ${file}"
  fi
done

found=$(command -v ansible-playbook || true)
if [ -n "${found}" ] && [[ "${found}" == "${venv}/"* || "$(realpath -m -- "${found}")" == "${venv}/"* ]]; then
  echo "ansible-playbook: ${found} from the step's venv is on PATH" >&2
  failed=1
elif [ -n "${found}" ]; then
  echo "ansible-playbook: ${found} is on PATH, but not from this step (the image installs Ansible itself)"
else
  echo "ansible-playbook: no ansible-playbook on PATH"
fi
exit "${failed}"
