#!/usr/bin/env bash
# retry CMD...: run a command up to five times with growing pauses, for flaky mirrors
# and networks. Steps that list `libraries: [retry]` get this after their environment.
retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if "$@"; then return 0; fi
    echo "attempt ${attempt} of '$*' failed; retrying in $((attempt * 10))s" >&2
    sleep $((attempt * 10))
  done
  echo "giving up on '$*'" >&2
  return 1
}
