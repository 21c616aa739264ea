#!/bin/sh
# bench/mirror.sh SRC DST [RESULTS]: the one-way mirror that `make bench` times,
#
#   cairn-diff SRC DST | cairn-plan --mirror --max-delete=off | cairn-apply >RESULTS
#
# (RESULTS defaults to /dev/null), like `rsync -aH --delete SRC/ DST/`. DST
# must exist. Exits with the first non-zero status of the three stages, or 0:
# sh has no pipefail, so each stage writes its status on descriptor 3, which
# the command substitution collects. No other program runs: dirname, mktemp,
# cat and rm for status files cost 10 ms a run here, billed to cairn (a copy
# of four 256 MiB files takes 0.4 s).
set -u
[ $# -ge 2 ] || { echo "usage: bench/mirror.sh SRC DST [RESULTS]" >&2; exit 2; }
case $0 in */*) BIN=${0%/*}/../bin ;; *) BIN=../bin ;; esac
exec 4>&1
codes=$({ { { "$BIN/cairn-diff" "$1" "$2"; echo "diff $?" >&3; } |
  { "$BIN/cairn-plan" --mirror --max-delete=off; echo "plan $?" >&3; } |
  "$BIN/cairn-apply" >"${3:-/dev/null}"; echo "apply $?" >&3; } 3>&1 >&4; })
exec 4>&-
# "stage status" pairs, in the order the stages ended; reported in pipeline order.
diff=99 plan=99 apply=99
set -- $codes
while [ $# -ge 2 ]; do
  case $1 in diff) diff=$2 ;; plan) plan=$2 ;; apply) apply=$2 ;; esac
  shift 2
done
[ "$diff" = 0 ] || { echo "bench/mirror.sh: cairn-diff exited $diff" >&2; exit "$diff"; }
[ "$plan" = 0 ] || { echo "bench/mirror.sh: cairn-plan exited $plan" >&2; exit "$plan"; }
[ "$apply" = 0 ] || echo "bench/mirror.sh: cairn-apply exited $apply" >&2
exit "$apply"
