#!/usr/bin/env bash
# make preview / make up: `pulumi preview` or `pulumi up` of one stack with the
# real Pulumi CLI and real cloud credentials (the offline view is `make plan`).
#
# Usage: scripts/pulumi-stack.sh preview|up STACK [extra pulumi arguments...]
#
# State backend: $PULUMI_BACKEND_URL when set (s3://..., azblob://...,
# https://api.pulumi.com, file://...), otherwise a file backend inside the
# project (.pulumi-state/, git-ignored), so nothing is shared by accident.
# The URL is passed through the environment only: `pulumi login` state in
# ~/.pulumi is left as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: $0 preview|up STACK [pulumi arguments...]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
command=$1
stack=$2
shift 2
case "$command" in
  preview | up) ;;
  *) usage ;;
esac

if ! command -v pulumi >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/).
`make preview` and `make up` talk to the real clouds and need it, plus cloud
credentials. Without them, `make plan` and `make plan-diff` show offline what
the program would create.
MSG
  exit 127
fi

if [ ! -f "Pulumi.$stack.yaml" ]; then
  known=""
  for file in Pulumi.*.yaml; do
    name=${file#Pulumi.}
    known="$known ${name%.yaml}"
  done
  echo "error: Pulumi.$stack.yaml not found (stacks:$known)" >&2
  exit 2
fi

if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
export PULUMI_BACKEND_URL
echo "state backend: $PULUMI_BACKEND_URL" >&2

case "$PULUMI_BACKEND_URL" in
  https://* | http://*) ;;
  *)
    if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      echo "note: a self-managed backend encrypts stack secrets with a passphrase; set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or Pulumi will ask for it" >&2
    fi
    ;;
esac

pulumi stack select --create "$stack" --non-interactive
pulumi "$command" --stack "$stack" "$@"
