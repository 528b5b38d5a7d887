#!/usr/bin/env bash
# Prove the pinned collector is installed, its unit exists disabled and inactive, and no config is baked.
set -euo pipefail

version="${GI_PIN_OTELCOL_CONTRIB_VERSION:?otel-collector: GI_PIN_OTELCOL_CONTRIB_VERSION is required}"
binary=/usr/local/bin/otelcol-contrib
if [ ! -x "${binary}" ]; then
  echo "otel-collector: ${binary} is missing" >&2
  exit 1
fi
reported=$("${binary}" --version)
if ! grep -q "version ${version}\$" <<< "${reported}"; then
  echo "otel-collector: expected version ${version}, got: ${reported}" >&2
  exit 1
fi
echo "otel-collector: ${reported}"
getent passwd otelcol-contrib >/dev/null || { echo "otel-collector: user otelcol-contrib is missing" >&2; exit 1; }
[ -f /etc/systemd/system/otelcol-contrib.service ] || { echo "otel-collector: unit file is missing" >&2; exit 1; }
enabled=$(systemctl is-enabled otelcol-contrib.service 2>/dev/null || true)
active=$(systemctl is-active otelcol-contrib.service 2>/dev/null || true)
if [ "${enabled}" != "disabled" ] || [ "${active}" = "active" ] || [ "${active}" = "activating" ]; then
  echo "otel-collector: otelcol-contrib.service is ${enabled}/${active}, expected disabled and inactive" >&2
  exit 1
fi
if [ -e /etc/otelcol-contrib/config.yaml ]; then
  echo "otel-collector: /etc/otelcol-contrib/config.yaml is baked into the image; it is configured at boot" >&2
  exit 1
fi
echo "otel-collector: unit disabled and inactive, no configuration baked"
