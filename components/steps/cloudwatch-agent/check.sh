#!/usr/bin/env bash
# Prove the CloudWatch agent is installed, reports its version, and is neither running nor enabled.
set -euo pipefail

ctl=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
if [ ! -x "${ctl}" ]; then
  echo "cloudwatch-agent: ${ctl} is missing" >&2
  exit 1
fi
if [ -f /opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION ]; then
  echo "cloudwatch-agent: version $(cat /opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION)"
fi
active=$(systemctl is-active amazon-cloudwatch-agent 2>/dev/null || true)
enabled=$(systemctl is-enabled amazon-cloudwatch-agent 2>/dev/null || true)
if [ "${active}" = "active" ] || [ "${active}" = "activating" ] || [ "${enabled}" = "enabled" ]; then
  echo "cloudwatch-agent: amazon-cloudwatch-agent is ${enabled}/${active}; it is configured and started at boot" >&2
  exit 1
fi
echo "cloudwatch-agent: installed, not running, not enabled"
