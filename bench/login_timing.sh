#!/usr/bin/env bash
# Login time for an unknown email, a wrong password and the right one, interleaved, against a
# running server: bench/login_timing.sh [BASE_URL] [ROUNDS]. Start it with throttling off
# (RATELIMIT_ENABLED=false make run), or the failed logins are soon answered 429.
set -euo pipefail
base=${1:-http://localhost:4000}
rounds=${2:-40}
email="timing-$(date +%s)@example.com"
curl -sf -o /dev/null -X POST "$base/api/auth/signup" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$email\", \"password\": \"password123\"}"
declare -A bodies=(
  [unknown_email]="{\"email\": \"nobody-$email\", \"password\": \"password123\"}"
  [wrong_password]="{\"email\": \"$email\", \"password\": \"wrong-password\"}"
  [right_password]="{\"email\": \"$email\", \"password\": \"password123\"}"
)
samples=$(mktemp)
for _ in $(seq "$rounds"); do
  for kind in unknown_email wrong_password right_password; do
    printf '%s %s\n' "$kind" "$(curl -s -o /dev/null -w '%{time_total}' -X POST "$base/api/auth/login" \
      -H 'Content-Type: application/json' -d "${bodies[$kind]}")"
  done
done > "$samples"
for kind in unknown_email wrong_password right_password; do
  grep "^$kind " "$samples" | cut -d' ' -f2 | sort -n | awk -v kind="$kind" \
    '{t[NR] = $1 * 1000} END {printf "%-15s median %6.1f ms  p10 %6.1f  p90 %6.1f  (n=%d)\n", kind, t[int(NR / 2)], t[int(NR * 0.1) + 1], t[int(NR * 0.9)], NR}'
done
rm -f "$samples"
