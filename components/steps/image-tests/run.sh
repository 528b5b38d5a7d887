#!/usr/bin/env bash
# Run the flavour's image tests: a shell suite (functions named test_*), goss or InSpec (Cinc
# Auditor). Every framework writes JUnit XML; the step fails when that results file is missing
# or empty, shows no test, or any failure or error, and when the runner's exit code says so.
set -euo pipefail

framework="${GI_PARAM_FRAMEWORK:-}"
framework="${framework:-shell}"
work=$(mktemp -d)
results="${work}/results.xml"
created_opt=""
cleanup() {
  rm -rf "${work}"
  if [ -n "${created_opt}" ]; then rm -rf "${created_opt}"; fi
}
trap cleanup EXIT

fail() {
  echo "image-tests: $*" >&2
  exit 1
}

# A downloaded file is used only when its sha256 is the pinned one (again: AWS's S3Download
# verifies nothing, and the file may have waited on disk since it was fetched).
verify() {
  local path="$1" expected="$2" what="$3" actual
  [ -f "${path}" ] || fail "${what} was not downloaded to ${path}"
  actual=$(sha256sum "${path}" | cut -d' ' -f1)
  [ "${actual}" = "${expected}" ] || fail "${what} has sha256 ${actual}, expected ${expected}"
}

# The suite: a build asset (any size, any framework) or the embedded text of a small one.
suite=""
if [ -n "${GI_ASSET_TESTS:-}" ]; then
  verify "${GI_ASSET_TESTS}" "${GI_ASSET_TESTS_SHA256}" "the suite archive (${GI_PARAM_TESTS})"
  mkdir "${work}/suite"
  tar -xzf "${GI_ASSET_TESTS}" -C "${work}/suite" --no-same-owner
  if [ "${GI_ASSET_TESTS_KIND:-directory}" = "file" ]; then
    suite="${work}/suite/$(basename "${GI_PARAM_TESTS}")"
  else
    suite="${work}/suite"
  fi
elif [ -n "${GI_PARAM_SUITE:-}" ]; then
  suite="${work}/suite.sh"
  printf '%s\n' "${GI_PARAM_SUITE}" > "${suite}"
else
  fail "the suite is empty (parameter suite or tests)"
fi

xml_escape() {
  sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

run_shell() {
  local files=() file tests test passed=0 failed=0 cases="${work}/cases.xml"
  if [ -d "${suite}" ]; then
    mapfile -t files < <(find "${suite}" -type f -name '*.sh' | sort)
  else
    files=("${suite}")
  fi
  [ "${#files[@]}" -gt 0 ] || fail "the suite folder ${GI_PARAM_TESTS:-} holds no .sh file"
  : > "${cases}"
  for file in "${files[@]}"; do
    bash -n "${file}" || fail "the suite ${file#"${work}/suite/"} is not valid bash"
    mapfile -t tests < <(bash -c 'source "$1" >/dev/null; declare -F | awk "{ print \$3 }" | grep "^test_" || true' _ "${file}")
    for test in "${tests[@]}"; do
      if bash -c 'set -euo pipefail; source "$1"; "$2"' _ "${file}" "${test}" > "${work}/output" 2>&1; then
        echo "PASS ${test}"
        passed=$((passed + 1))
        printf '<testcase name="%s"/>\n' "${test}" >> "${cases}"
      else
        echo "FAIL ${test}"
        sed 's/^/    /' "${work}/output"
        failed=$((failed + 1))
        { printf '<testcase name="%s"><failure message="failed">' "${test}"
          xml_escape < "${work}/output"
          printf '</failure></testcase>\n'; } >> "${cases}"
      fi
    done
  done
  { echo '<?xml version="1.0" encoding="UTF-8"?>'
    printf '<testsuite name="image-tests" tests="%d" failures="%d" errors="0" skipped="0">\n' \
      $((passed + failed)) "${failed}"
    cat "${cases}"
    echo '</testsuite>'; } > "${results}"
  # The shell runner's own status: the results file decides below.
  status=0
}

run_goss() {
  local goss="${work}/goss" gossfile
  verify "${GI_DOWNLOAD_GOSS:-}" "${GI_DOWNLOAD_GOSS_SHA256}" "goss ${GI_PIN_GOSS_VERSION}"
  cp "${GI_DOWNLOAD_GOSS}" "${goss}"
  chmod 0755 "${goss}"
  if [ -d "${suite}" ]; then
    gossfile="${suite}/goss.yaml"
    [ -f "${gossfile}" ] || fail "the goss folder ${GI_PARAM_TESTS} has no goss.yaml at its top"
  else
    gossfile="${suite}"
  fi
  echo "image-tests: goss ${GI_PIN_GOSS_VERSION} validate --gossfile ${gossfile#"${work}/suite/"}"
  # goss exits 0 when every test passed and 1 when any failed; anything else is goss failing.
  status=0
  (cd "$(dirname "${gossfile}")" && "${goss}" --gossfile "${gossfile}" validate --format junit --no-color) \
    > "${results}" || status=$?
  case "${status}" in
    0 | 1) ;;
    *) fail "goss failed to run (exit code ${status})" ;;
  esac
}

run_inspec() {
  local auditor=/opt/cinc-auditor/bin/cinc-auditor
  verify "${GI_DOWNLOAD_CINC_AUDITOR:-}" "${GI_DOWNLOAD_CINC_AUDITOR_SHA256}" "Cinc Auditor ${GI_PIN_CINC_AUDITOR_VERSION}"
  [ -f "${suite}/inspec.yml" ] || fail "the InSpec profile ${GI_PARAM_TESTS} has no inspec.yml at its top"
  if [ ! -e /opt/cinc-auditor ]; then
    command -v dpkg-deb > /dev/null || fail "dpkg-deb is missing: the pinned Cinc Auditor is a .deb (Debian and Ubuntu images)"
    # Unpacked, not installed: no package is registered, and the folder goes once the tests ran.
    created_opt=/opt/cinc-auditor
    dpkg-deb -x "${GI_DOWNLOAD_CINC_AUDITOR}" /
  fi
  [ -x "${auditor}" ] || fail "${auditor} is missing after unpacking Cinc Auditor"
  echo "image-tests: cinc-auditor ${GI_PIN_CINC_AUDITOR_VERSION} exec ${GI_PARAM_TESTS}"
  # InSpec exits 0 when every control passed, 100 when any failed and 101 when some were
  # skipped and none failed (Inspec::RunnerRspec#exit_code, distinct exit codes being the
  # default); anything else is the tool failing.
  status=0
  "${auditor}" exec "${suite}" --reporter cli "junit2:${results}" --no-color || status=$?
  case "${status}" in
    0 | 100 | 101) ;;
    *) fail "cinc-auditor failed to run (exit code ${status})" ;;
  esac
}

# Sums of the attributes of every <testsuite> element (goss and junit2 write one or more).
count() {
  tr '\n' ' ' < "${results}" | grep -o '<testsuite[[:space:]][^>]*>' \
    | sed -n "s/.*[[:space:]]$1=\"\([0-9]*\)\".*/\1/p" | awk '{ n += $1 } END { print n + 0 }'
}

status=0
case "${framework}" in
  shell) run_shell ;;
  goss) run_goss ;;
  inspec) run_inspec ;;
  *) fail "unknown framework '${framework}' (shell, goss or inspec on Linux)" ;;
esac

[ -s "${results}" ] || fail "${framework} wrote no results file (${results} is missing or empty)"
total=$(count tests)
failures=$(count failures)
errors=$(count errors)
skipped=$(count skipped)
passed=$((total - failures - errors - skipped))
echo "image-tests: ${framework}: ${total} tests, ${passed} passed, ${failures} failed, ${errors} errors, ${skipped} skipped"
if [ "${total}" -eq 0 ]; then
  fail "the suite ran no test (the results file shows zero tests)"
fi
if [ $((failures + errors)) -gt 0 ]; then
  fail "$((failures + errors)) test(s) failed"
fi
if [ "${status}" -ne 0 ] && [ "${status}" -ne 101 ]; then
  fail "${framework} exited ${status} although its results show no failure"
fi
if [ "${passed}" -le 0 ]; then
  fail "no test passed (every test was skipped)"
fi
# Done: what this run fetched goes, so nothing of the suite or its runner stays in the image
# (a failed run keeps them for a retry; the build fails anyway).
rm -f "${GI_ASSET_TESTS:-}" "${GI_DOWNLOAD_GOSS:-}" "${GI_DOWNLOAD_CINC_AUDITOR:-}"
