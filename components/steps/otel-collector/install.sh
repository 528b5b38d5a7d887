#!/usr/bin/env bash
# Install the pinned otelcol-contrib binary with a disabled systemd unit and its own system user.
set -euo pipefail

archive="${GI_DOWNLOAD_OTELCOL_CONTRIB:?otel-collector: GI_DOWNLOAD_OTELCOL_CONTRIB is required}"
version="${GI_PIN_OTELCOL_CONTRIB_VERSION:?otel-collector: GI_PIN_OTELCOL_CONTRIB_VERSION is required}"
binary=/usr/local/bin/otelcol-contrib
unit=/etc/systemd/system/otelcol-contrib.service

if [ -x "${binary}" ] && "${binary}" --version | grep -q "version ${version}\$"; then
  echo "otel-collector: ${version} already installed"
else
  if [ ! -f "${archive}" ]; then
    echo "otel-collector: archive ${archive} is missing" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "${work}"' EXIT
  tar -xzf "${archive}" -C "${work}" otelcol-contrib
  install -o root -g root -m 0755 "${work}/otelcol-contrib" "${binary}"
fi

if ! getent passwd otelcol-contrib >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin otelcol-contrib
fi
install -d -o root -g otelcol-contrib -m 0750 /etc/otelcol-contrib
cat > "${unit}" <<'UNIT'
[Unit]
Description=OpenTelemetry Collector (contrib)
After=network-online.target
Wants=network-online.target
ConditionPathExists=/etc/otelcol-contrib/config.yaml

[Service]
User=otelcol-contrib
Group=otelcol-contrib
ExecStart=/usr/local/bin/otelcol-contrib --config=/etc/otelcol-contrib/config.yaml
Restart=on-failure
NoNewPrivileges=true
ProtectSystem=full

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "${unit}"
systemctl daemon-reload
systemctl disable otelcol-contrib.service
systemctl stop otelcol-contrib.service
"${binary}" --version
echo "otel-collector: installed; unit disabled until configuration management writes /etc/otelcol-contrib/config.yaml"
