#!/usr/bin/env bash
# Prove the Agent is at the pinned version, its units are stopped and disabled, and no API key is baked.
set -euo pipefail

version="${GI_PIN_DATADOG_AGENT_VERSION:?datadog-agent: GI_PIN_DATADOG_AGENT_VERSION is required}"
agent=/opt/datadog-agent/bin/agent/agent
if [ ! -x "${agent}" ]; then
  echo "datadog-agent: ${agent} is missing" >&2
  exit 1
fi
output=$("${agent}" version)
if ! grep -q "Agent ${version} " <<< "${output}"; then
  echo "datadog-agent: expected Agent ${version}, got: ${output}" >&2
  exit 1
fi
echo "datadog-agent: Agent ${version} installed"

mapfile -t units < <(systemctl list-unit-files 'datadog-agent*' --no-legend | awk '{ print $1 }' | grep -v '@' || true)
if [ "${#units[@]}" -eq 0 ]; then
  echo "datadog-agent: no datadog-agent systemd units found" >&2
  exit 1
fi
failed=0
for unit in "${units[@]}"; do
  enabled=$(systemctl is-enabled "${unit}" 2>/dev/null || true)
  active=$(systemctl is-active "${unit}" 2>/dev/null || true)
  if [ "${enabled}" = "enabled" ] || [ "${active}" = "active" ] || [ "${active}" = "activating" ]; then
    echo "datadog-agent: ${unit} is ${enabled}/${active}, expected disabled and inactive" >&2
    failed=1
  fi
done
[ "${failed}" -eq 0 ] || exit 1
echo "datadog-agent: ${#units[@]} unit(s) stopped and disabled"

config=/etc/datadog-agent/datadog.yaml
if [ "${GI_PARAM_BAKE_KEY:-false}" = "true" ]; then
  # Asked for: a key-shaped api_key, readable by root and the Agent's group only (never printed).
  if ! grep -Eq '^api_key: [0-9a-fA-F]{32}$' "${config}"; then
    echo "datadog-agent: ${config} has no API key although bake_key is true" >&2
    exit 1
  fi
  mode=$(stat -c '%a' "${config}")
  if [ "${mode}" != "640" ]; then
    echo "datadog-agent: ${config} has mode ${mode}, expected 640" >&2
    exit 1
  fi
  echo "datadog-agent: API key in the image, as asked (bake_key)"
  exit 0
fi
if [ -f "${config}" ] && grep -Eq '^[[:space:]]*api_key[[:space:]]*:[[:space:]]*[^[:space:]]' "${config}"; then
  echo "datadog-agent: ${config} contains an api_key; keys are configured at boot, never baked" >&2
  exit 1
fi
echo "datadog-agent: no API key in the image"
