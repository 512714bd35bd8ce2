#!/bin/sh
# Build the libFuzzer harnesses with clang in build-fuzz/ and run each for
# an equal share of SECONDS (default 30). The seed inputs are the bundled
# policies and the hostile-script cases for the policy loader, a few
# dates for the date parser, a few C declarations for the plugin
# signature parser, two small database files for the page reader and a
# few commands that fill two id sets. Inputs that reach new code are kept in
# build-fuzz/corpus/NAME/ for the next run. A finding makes the script
# exit non-zero and leaves its input in build-fuzz/.
#   tests/fuzz/run.sh [SECONDS]
# Needs: apt-get install clang libclang-rt-14-dev
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-30}
share=$((seconds / 6))
[ "$share" -ge 1 ] || share=1
build=build-fuzz
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DLETHE_FUZZ=ON \
  -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_policy fuzz_dates \
  fuzz_criteria fuzz_signature fuzz_pages fuzz_idset_ops

corpus="$build/corpus"
mkdir -p "$corpus/policy" "$corpus/dates" "$corpus/criteria" \
  "$corpus/signature" "$corpus/pages" "$corpus/idset_ops"
cp scripts/policies/*.lua "$corpus/policy/"
# The backtracking patterns would stall the loader, whose time limit is
# off under libFuzzer.
for case in tests/hostile/*.lua; do
  grep -q "string.find(string.rep" "$case" || cp "$case" "$corpus/policy/"
done
for date in 2024-06-30 2024-06-30T12:00:00Z "2024-02-29 23:59:59.5+02:00" \
    1970-01-01 9999-12-31T23:59:59-01:00; do
  name=$(printf '%s' "$date" | cksum | cut -d' ' -f1)
  printf '%s' "$date" > "$corpus/dates/$name"
done
printf 'seed' > "$corpus/criteria/seed"
printf 'char *phone_e164(const char *number, const char *country)' \
  > "$corpus/signature/text"
printf 'int64_t add(int64_t a, int64_t b);' > "$corpus/signature/integers"
printf 'lethe_idset *keep(const lethe_idset *set, double share)' \
  > "$corpus/signature/idset"

# Databases of 512-byte pages: live rows, an overflow chain, deleted rows
# in free space and on the freelist; the second in auto-vacuum mode.
for vacuum in NONE FULL; do
  seed="$corpus/pages/seed-$vacuum"
  rm -f "$seed"
  sqlite3 "$seed" "PRAGMA page_size = 512; PRAGMA auto_vacuum = $vacuum;
    PRAGMA secure_delete = OFF;
    CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT);
    CREATE INDEX note_text ON note (text);
    INSERT INTO note (text) VALUES ('Canary Value'), ('A'),
      (printf('%.*c', 1500, 'x') || 'long value ' || 'end');
    INSERT INTO note (text) SELECT printf('%080d', value)
      FROM generate_series(1, 40);
    DELETE FROM note WHERE id BETWEEN 10 AND 30 OR text = 'A';"
done

# Two sets of ids: single ids, runs and many ids, on shared keys.
printf '\000\001\000\001\001\000\004\000\020\005\000\021\006\000\007\007\000\010\016\000\000' \
  > "$corpus/idset_ops/seed"

status=0
for name in policy dates criteria signature pages idset_ops; do
  echo "fuzz_$name: ${share} s"
  (cd "$build" && "./tests/fuzz/fuzz_$name" -max_total_time="$share" \
    -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 "corpus/$name") \
    >"$build/fuzz_$name.log" 2>&1 || status=1
  grep -E "^(Done|stat::number_of_executed_units|==.*ERROR)" \
    "$build/fuzz_$name.log" || true
done
exit $status
