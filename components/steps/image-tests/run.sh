#!/usr/bin/env bash
# Run the flavour's shell suite (embedded in GI_PARAM_SUITE): every function named test_* runs in
# its own shell with errexit; fail on any failure or when the suite defines no test.
set -euo pipefail

if [ -z "${GI_PARAM_SUITE:-}" ]; then
  echo "image-tests: the suite is empty (parameter suite)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
suite="${work}/suite.sh"
printf '%s\n' "${GI_PARAM_SUITE}" > "${suite}"
if ! bash -n "${suite}"; then
  echo "image-tests: the suite is not valid bash" >&2
  exit 1
fi

mapfile -t tests < <(bash -c 'source "$1" >/dev/null; declare -F | awk "{ print \$3 }" | grep "^test_" || true' _ "${suite}")
if [ "${#tests[@]}" -eq 0 ]; then
  echo "image-tests: the suite ran no test (define functions named test_*)" >&2
  exit 1
fi

passed=0
failed=0
for test in "${tests[@]}"; do
  if bash -c 'set -euo pipefail; source "$1"; "$2"' _ "${suite}" "${test}" > "${work}/output" 2>&1; then
    echo "PASS ${test}"
    passed=$((passed + 1))
  else
    echo "FAIL ${test}"
    sed 's/^/    /' "${work}/output"
    failed=$((failed + 1))
  fi
done
echo "image-tests: ${passed} passed, ${failed} failed"
[ "${failed}" -eq 0 ]
