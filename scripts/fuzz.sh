#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser the doctor owns (cargo fuzz, libFuzzer).
#   ./scripts/fuzz.sh [SECONDS_PER_TARGET=600] [TARGET...]
# Runs on the stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo fuzz use its -Z flags), two
# targets at a time on two cores; seeds each corpus from fixtures/. A crash is saved under
# fuzz/artifacts/<target>/; turn it into a test in tests/corpus.rs or tests/properties.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(ini ini_edit build_env token_json hcl_refs doctor_config output_masking portal_layout reset_plan endpoint_url layer_formats)
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1

seed() {
  local target=$1; shift
  mkdir -p "fuzz/corpus/$target"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "fuzz/corpus/$target/$(echo "$f" | tr '/' '_')"; done
}
seed ini fixtures/*/home/.aws/bb/config fixtures/*/home/.aws/bb/credentials
seed ini_edit fixtures/*/home/.aws/bb/config
seed build_env fixtures/*/project/build.env
seed token_json fixtures/*/home/.aws/bb/sso/cache/* fixtures/*/home/.aws/bb/cache/*
seed hcl_refs $(find fixtures -name '*.tf' -o -name '*.tfvars' | grep -v expected)
seed doctor_config fixtures/*/project/.leverage-doctor.toml
seed output_masking fixtures/*/home/.aws/bb/config fixtures/*/home/.aws/bb/credentials
seed portal_layout
seed reset_plan fixtures/*/home/.aws/bb/credentials
seed endpoint_url

for t in "${TARGETS[@]}"; do cargo fuzz build "$t"; done
run() {
  local t=$1 extra=()
  # hcl_refs parses on a bounded (detached) watchdog thread: LeakSanitizer reports that thread's
  # thread-local registration (__cxa_thread_atexit_impl, 64 bytes) at exit, not a leak of ours.
  [ "$t" = hcl_refs ] && extra=(-detect_leaks=0)
  cargo fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=4096 "${extra[@]}" \
    > "fuzz/$t.log" 2>&1 && echo "$t: no crash ($(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "fuzz/$t.log" | tail -1))" \
    || echo "$t: CRASH, see fuzz/$t.log and fuzz/artifacts/$t/"
}
i=0
for t in "${TARGETS[@]}"; do
  run "$t" &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
