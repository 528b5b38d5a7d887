#!/usr/bin/env bash
# gi_read_secret VAR REFERENCE: read the secret a reference names into the shell variable VAR
# with this machine's own identity (the instance profile on AWS, the build VM's managed
# identity on Azure). The value is never printed, never written to a file and never passed
# on a command line; the caller exports VAR for the command that needs it and unsets it
# after. A failed read ends the script (exit 1) with the reason, without the value.
# Steps that list `libraries: [secrets]` get this after their environment.
#   secretsmanager:<name> | arn:aws:secretsmanager:...  aws secretsmanager get-secret-value
#   ssm:/<path> | arn:aws:ssm:...:parameter/<path>    aws ssm get-parameter --with-decryption
#   https://<vault>.vault.azure.net/secrets/<name>     IMDS token for vault.azure.net, then
#                                                      GET <uri>?api-version=7.4 (Key Vault REST)
gi_read_secret() {
  local _gi_var="$1" _gi_ref="$2" _gi_value _gi_trace=""
  case $- in *x*) _gi_trace=1; set +x ;; esac  # an xtrace would print the value
  if ! [[ "${_gi_var}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    echo "secret reader: '${_gi_var}' is not a variable name" >&2
    exit 1
  fi
  if ! _gi_value=$(_gi_secret_value "${_gi_ref}"); then
    echo "secret reader: could not read ${_gi_ref} for ${_gi_var} with this machine's identity (reason above); the" \
         "build identity needs read access to exactly this secret, which the golden-images stack grants" >&2
    exit 1
  fi
  if [ -z "${_gi_value}" ]; then
    echo "secret reader: ${_gi_ref} for ${_gi_var} is empty" >&2
    exit 1
  fi
  printf -v "${_gi_var}" '%s' "${_gi_value}"
  unset _gi_value
  if [ -n "${_gi_trace}" ]; then set -x; fi
  return 0
}

_gi_aws_region() {  # the region of an ARN, else AWS_REGION, else this instance's (IMDSv2)
  local token
  case "$1" in arn:*) printf '%s' "$1" | cut -d: -f4; return 0 ;; esac
  if [ -n "${AWS_REGION:-}${AWS_DEFAULT_REGION:-}" ]; then printf '%s' "${AWS_REGION:-${AWS_DEFAULT_REGION}}"; return 0; fi
  token=$(curl --fail --silent --show-error --max-time 10 --noproxy 169.254.169.254 -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) || return 1
  curl --fail --silent --show-error --max-time 10 --noproxy 169.254.169.254 \
    -H "X-aws-ec2-metadata-token: ${token}" http://169.254.169.254/latest/meta-data/placement/region
}

_gi_json_field() {  # _gi_json_field FIELD: the string FIELD of the JSON object on stdin
  # python3 is on every Azure Linux image: the Azure Linux agent (waagent) is written in it.
  command -v python3 >/dev/null 2>&1 || { echo "secret reader: python3 is needed to read Azure's JSON answers" >&2; return 1; }
  python3 -c 'import json, sys
value = json.load(sys.stdin).get(sys.argv[1])
if not isinstance(value, str):
    sys.exit("secret reader: the answer has no " + sys.argv[1])
sys.stdout.write(value)' "$1"
}

_gi_secret_value() {  # _gi_secret_value REFERENCE: the value on stdout, reasons on stderr
  local ref="$1" region value token answer
  case "${ref}" in
    secretsmanager:* | arn:aws*:secretsmanager:* | ssm:/* | arn:aws*:ssm:*)
      command -v aws >/dev/null 2>&1 || {
        echo "secret reader: the AWS CLI is needed to read ${ref} and is not on this image (Ubuntu and Debian AMIs lack it):" \
             "add '- aws-managed-component: {name: aws-cli-version-2-linux}' before this step" >&2
        return 1
      }
      region=$(_gi_aws_region "${ref}") || { echo "secret reader: cannot tell this instance's region" >&2; return 1; }
      case "${ref}" in
        secretsmanager:* | arn:aws*:secretsmanager:*)
          value=$(aws secretsmanager get-secret-value --region "${region}" --secret-id "${ref#secretsmanager:}" \
                    --query SecretString --output text) || return 1
          # The CLI prints None for a binary secret, which has no SecretString.
          if [ "${value}" = "None" ]; then echo "secret reader: ${ref} has no SecretString (binary secrets are not read)" >&2; return 1; fi ;;
        *)
          value=$(aws ssm get-parameter --region "${region}" --name "${ref#ssm:}" --with-decryption \
                    --query Parameter.Value --output text) || return 1 ;;
      esac ;;
    https://*.vault.azure.net/secrets/*)
      command -v curl >/dev/null 2>&1 || { echo "secret reader: curl is needed to read ${ref}" >&2; return 1; }
      # The build VM's managed identity (the only one on it), for Key Vault's audience; IMDS
      # is never reached through a proxy.
      answer=$(curl --fail --silent --show-error --max-time 30 --noproxy 169.254.169.254 -H 'Metadata: true' \
        'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net') \
        || { echo "secret reader: no token from the instance metadata service (has the build VM an identity?)" >&2; return 1; }
      token=$(printf '%s' "${answer}" | _gi_json_field access_token) || return 1
      # The token travels on stdin (-H @-), not on a command line other processes can read.
      answer=$(printf 'Authorization: Bearer %s\n' "${token}" | curl --fail --silent --show-error --max-time 30 \
        --proto '=https' -H @- "${ref}?api-version=7.4") || { unset token; return 1; }
      unset token
      value=$(printf '%s' "${answer}" | _gi_json_field value) || { unset answer; return 1; }
      unset answer ;;
    *)
      echo "secret reader: '${ref}' is not a secret reference this helper reads" >&2
      return 1 ;;
  esac
  printf '%s' "${value}"
}
