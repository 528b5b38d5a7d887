#!/usr/bin/env bash
# Install the pinned Datadog Agent from Datadog's signed repository; leave it stopped and disabled.
set -euo pipefail

version="${GI_PIN_DATADOG_AGENT_VERSION:?datadog-agent: GI_PIN_DATADOG_AGENT_VERSION is required}"
# Datadog's repository signing keys, by full fingerprint (DATADOG_APT_KEY_<last 8>.public and
# DATADOG_RPM_KEY_<last 8>.public on keys.datadoghq.com). A key rotation is a change here.
apt_keys=(5F1E256061D813B125E156E8E6266D4AC0962C7D D75CEA17048B9ACBF186794B32637D44F14F620E A2923DFF56EDA6E76E55E492D3A80E30382E94DE)
rpm_key_files=(DATADOG_RPM_KEY_B01082D3.public DATADOG_RPM_KEY_FD4BF915.public)
keyring=/usr/share/keyrings/datadog-archive-keyring.gpg

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
export GNUPGHOME="${work}/gnupg"
mkdir -m 0700 "${GNUPGHOME}"

fetch_key() {  # fetch_key FILE: download one public key file from Datadog's key server
  retry curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
    --output "${work}/$1" "https://keys.datadoghq.com/$1"
}

key_fingerprint() {  # key_fingerprint FILE: the one primary key's fingerprint, or fail
  local listing primaries
  listing=$(gpg --batch --with-colons --import-options show-only --import "$1")
  primaries=$(printf '%s\n' "${listing}" | grep -c '^pub:' || true)
  if [ "${primaries}" != "1" ]; then
    echo "datadog-agent: $1 holds ${primaries} primary keys, expected 1" >&2
    return 1
  fi
  printf '%s\n' "${listing}" | awk -F: '$1 == "fpr" { print $10; exit }'
}

agent_version() {
  if [ -x /opt/datadog-agent/bin/agent/agent ]; then /opt/datadog-agent/bin/agent/agent version; fi
}

if agent_version | grep -q "Agent ${version} "; then
  echo "datadog-agent: ${version} already installed"
elif command -v apt-get >/dev/null 2>&1; then
  command -v gpg >/dev/null 2>&1 || { echo "datadog-agent: gpg is required to verify Datadog's keys" >&2; exit 1; }
  : > "${work}/keyring.gpg"
  for fingerprint in "${apt_keys[@]}"; do
    file="DATADOG_APT_KEY_${fingerprint: -8}.public"
    fetch_key "${file}"
    got=$(key_fingerprint "${work}/${file}")
    if [ "${got}" != "${fingerprint}" ]; then
      echo "datadog-agent: ${file} has fingerprint '${got}', expected ${fingerprint}" >&2
      exit 1
    fi
    gpg --batch --yes --dearmor < "${work}/${file}" >> "${work}/keyring.gpg"
  done
  install -m 0644 "${work}/keyring.gpg" "${keyring}"
  echo "deb [signed-by=${keyring}] https://apt.datadoghq.com/ stable 7" > /etc/apt/sources.list.d/datadog.list
  export DEBIAN_FRONTEND=noninteractive
  retry apt-get -o DPkg::Lock::Timeout=600 update
  retry apt-get -o DPkg::Lock::Timeout=600 install -y "datadog-agent=1:${version}-1"
  # The image keeps the pinned version: without the source list, OS updates leave it alone.
  rm -f /etc/apt/sources.list.d/datadog.list
elif command -v dnf >/dev/null 2>&1; then
  command -v gpg >/dev/null 2>&1 || { echo "datadog-agent: gpg is required to verify Datadog's keys" >&2; exit 1; }
  for file in "${rpm_key_files[@]}"; do
    fetch_key "${file}"
    got=$(key_fingerprint "${work}/${file}")
    if [ "${got: -8}" != "${file:16:8}" ]; then
      echo "datadog-agent: ${file} has fingerprint '${got}', which does not end in ${file:16:8}" >&2
      exit 1
    fi
    rpm --import "${work}/${file}"
  done
  arch=$(uname -m)
  cat > /etc/yum.repos.d/datadog.repo <<REPO
[datadog]
name=Datadog, Inc.
baseurl=https://yum.datadoghq.com/stable/7/${arch}/
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=https://keys.datadoghq.com/DATADOG_RPM_KEY_B01082D3.public
       https://keys.datadoghq.com/DATADOG_RPM_KEY_FD4BF915.public
REPO
  retry dnf install -y "datadog-agent-${version}-1"
  rm -f /etc/yum.repos.d/datadog.repo
else
  echo "datadog-agent: no supported package manager (apt-get or dnf) found" >&2
  exit 1
fi

if ! agent_version | grep -q "Agent ${version} "; then
  echo "datadog-agent: installed Agent does not report version ${version}" >&2
  exit 1
fi

mapfile -t units < <(systemctl list-unit-files 'datadog-agent*' --no-legend | awk '{ print $1 }' | grep -v '@' || true)
if [ "${#units[@]}" -eq 0 ]; then
  echo "datadog-agent: no datadog-agent systemd units found" >&2
  exit 1
fi
for unit in "${units[@]}"; do
  systemctl stop "${unit}"
  systemctl disable "${unit}"
  echo "datadog-agent: ${unit} stopped, disabled"
done

# Only when the team asked for the key in the image (api_key with bake_key: true): read on
# this machine with its own identity, checked for a key's shape, written into datadog.yaml
# readable by the Agent alone, and unset. The Agent stays stopped and disabled.
if [ "${GI_PARAM_BAKE_KEY:-false}" = "true" ]; then
  gi_read_secret DD_API_KEY "${GI_PARAM_API_KEY:?datadog-agent: bake_key needs api_key}"
  if ! [[ "${DD_API_KEY}" =~ ^[0-9a-fA-F]{32}$ ]]; then
    unset DD_API_KEY
    echo "datadog-agent: the secret ${GI_PARAM_API_KEY} does not hold a Datadog API key (32 hex digits)" >&2
    exit 1
  fi
  config=/etc/datadog-agent/datadog.yaml
  if [ ! -f "${config}" ] && [ -f "${config}.example" ]; then cp "${config}.example" "${config}"; fi
  touch "${config}"
  chmod 0640 "${config}"
  sed -i '/^api_key[[:space:]]*:/d' "${config}"
  printf 'api_key: %s\n' "${DD_API_KEY}" >> "${config}"
  unset DD_API_KEY
  chown dd-agent:dd-agent "${config}"
  echo "datadog-agent: API key from ${GI_PARAM_API_KEY} written to ${config} (asked for: bake_key)"
fi
