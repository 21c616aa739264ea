#!/bin/sh
# bench/bisync.sh A B STATE [RESULTS]: the two-way sync that `make bench` times,
#
#   cairn-diff --base STATE A B | cairn-plan --bisync | cairn-apply --state STATE >RESULTS
#
# (RESULTS defaults to /dev/null). Exits with the first non-zero status of
# the three stages, or 0 (sh has no pipefail: statuses go through files).
set -u
[ $# -ge 3 ] || { echo "usage: bench/bisync.sh A B STATE [RESULTS]" >&2; exit 2; }
BIN=$(cd "$(dirname "$0")/../bin" && pwd) || exit 2
ST=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-bisync.XXXXXX") || exit 2
trap 'rm -rf "$ST"' EXIT
{ "$BIN/cairn-diff" --base "$3" "$1" "$2"; echo $? >"$ST/diff"; } |
  { "$BIN/cairn-plan" --bisync; echo $? >"$ST/plan"; } |
  "$BIN/cairn-apply" --state "$3" >"${4:-/dev/null}"
APPLY=$?
for s in diff plan; do
  c=$(cat "$ST/$s" 2>/dev/null) || c=99
  [ "$c" = 0 ] || { echo "bench/bisync.sh: cairn-$s exited $c" >&2; exit "$c"; }
done
[ "$APPLY" = 0 ] || echo "bench/bisync.sh: cairn-apply exited $APPLY" >&2
exit "$APPLY"
