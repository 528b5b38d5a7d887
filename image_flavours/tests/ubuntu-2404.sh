# Image tests for ubuntu-2404, run in the image by the image-tests step.
# Each function named test_* is one test; it fails when any command in it fails
# (a negated command, `! cmd`, does not stop a test: use `if cmd; then return 1; fi`).
# `# needs: <step>` above a test names the step it tests: a local rehearsal (make rehearse)
# reports the test blocked, not failed, when the network kept that step from installing.

test_tools_are_installed() {
  command -v curl
  command -v jq
  command -v unzip
}

# needs: datadog-agent
test_datadog_agent_waits_for_configuration() {
  if systemctl is-active --quiet datadog-agent; then return 1; fi
  [ "$(systemctl is-enabled datadog-agent || true)" = "disabled" ]
}

# needs: otel-collector
test_otel_collector_waits_for_configuration() {
  /usr/local/bin/otelcol-contrib --version
  if systemctl is-active --quiet otelcol-contrib; then return 1; fi
}

test_ssh_refuses_root_and_empty_passwords() {
  grep -qx 'PermitRootLogin no' /etc/ssh/sshd_config.d/10-golden-images-cis.conf
  grep -qx 'PermitEmptyPasswords no' /etc/ssh/sshd_config.d/10-golden-images-cis.conf
}

test_kernel_hardening_is_in_force() {
  [ "$(sysctl -n kernel.randomize_va_space)" = "2" ]
  [ "$(sysctl -n net.ipv4.conf.all.accept_redirects)" = "0" ]
}
