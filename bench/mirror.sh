#!/bin/sh
# bench/mirror.sh SRC DST [RESULTS]: the one-way mirror that `make bench` times,
#
#   cairn-diff SRC DST | cairn-plan --mirror --max-delete=off | cairn-apply >RESULTS
#
# (RESULTS defaults to /dev/null), like `rsync -aH --delete SRC/ DST/`. DST
# must exist. Exits with the first non-zero status of the three stages, or 0:
# sh has no pipefail, so each stage's status goes through a file. (The two
# files cost about a millisecond, next to seconds of work.)
set -u
[ $# -ge 2 ] || { echo "usage: bench/mirror.sh SRC DST [RESULTS]" >&2; exit 2; }
BIN=$(cd "$(dirname "$0")/../bin" && pwd) || exit 2
ST=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-mirror.XXXXXX") || exit 2
trap 'rm -rf "$ST"' EXIT
{ "$BIN/cairn-diff" "$1" "$2"; echo $? >"$ST/diff"; } |
  { "$BIN/cairn-plan" --mirror --max-delete=off; echo $? >"$ST/plan"; } |
  "$BIN/cairn-apply" >"${3:-/dev/null}"
APPLY=$?
for s in diff plan; do
  c=$(cat "$ST/$s" 2>/dev/null) || c=99
  [ "$c" = 0 ] || { echo "bench/mirror.sh: cairn-$s exited $c" >&2; exit "$c"; }
done
[ "$APPLY" = 0 ] || echo "bench/mirror.sh: cairn-apply exited $APPLY" >&2
exit "$APPLY"
