#!/bin/sh
# cairn benchmarks: `make bench` (builds dist/, then runs this).
#
# Every target line compares cairn with a reference measured in the same run
# (one hyperfine invocation per group), prints both figures, their ratio
# (cairn / reference: time or memory, lower is better), the target and
# PASS/FAIL. INFO lines are for context and count neither way. The exit
# status is 0 whatever the results: this is a report.
#
# Environment:
#   BENCH_RUNS=5        timed runs per command; the median is reported (start-up: at least 20)
#   BENCH_DIR=/tmp/cairn-bench
#                       generated trees and logs; trees are reused while their
#                       marker file (NAME.ok) matches, so reruns are quick
#   BENCH_ONLY=scan,hash,reuse,rss,startup,reader,mirror-first,mirror-noop,bisync-noop,copy-big,diff-1m,
#              pack-100k,pack-big,archive-plan,restore-100k,restore-one,s3-mirror,s3-noop
#                       run a subset
#   BENCH_TIMER=hyperfine|own
#                       default: hyperfine when installed, else bench/measure.ts's loop
#   BENCH_RSS=gnu-time|proc
#                       default: GNU /usr/bin/time when it works, else polling /proc
#   BENCH_ARCHIVE_HASH=blake3
#                       the --hash of the scans that pack-100k, pack-big and restore-100k
#                       plan their volume from (pack-big also times a sha256 plan, as INFO)
#   BENCH_RSS_RUNS=3    runs per peak-RSS figure (median; a 1M scan takes several seconds)
#   BENCH_MIRROR_RUNS=N timed runs for mirror-first (default: BENCH_RUNS, but at most 3
#                       while cairn's checked first mirror takes over 20 s: 5 rounds of
#                       rsync, cp -a and a slow cairn would take most of the bench's time)
#   BENCH_SYNC=start|each
#                       the sync sections (mirror-first, copy-big) remove and remake their
#                       destination before every run, untimed; `sync` runs once before the
#                       timed runs (start), or also before every run (each: no run starts
#                       with an earlier run's data still to write back; slower)
#
# The sync sections (mirror-first, mirror-noop, copy-big, diff-1m) always time
# with bench/measure.ts's loop, which takes cairn and the reference tools in
# turn in every round (hyperfine would time all runs of one command first),
# and check cairn's result: a wrong mirror is a FAIL line and a message on
# stderr. Caches cannot be dropped: all figures are warm-cache.
#
# Disk: about 3.5 GB kept under BENCH_DIR (1 GiB of it the hash input), 2.2M inodes;
# up to 5 GB while copy-big runs (the copy of the hash input).
set -u

DIR=${BENCH_DIR:-/tmp/cairn-bench}
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
cd "$(dirname "$0")/.." || exit 2
TOP=$(pwd)
RUNS=${BENCH_RUNS:-5}
RSS_RUNS=${BENCH_RSS_RUNS:-3}
ALL=scan,hash,reuse,rss,startup,reader,mirror-first,mirror-noop,bisync-noop,copy-big,diff-1m,pack-100k,pack-big,archive-plan,restore-100k,restore-one,s3-mirror,s3-noop
ONLY=${BENCH_ONLY:-$ALL}
SYNC_WHEN=${BENCH_SYNC:-start}
NODE=$(command -v "${NODE:-node}") || { echo "bench: node not found" >&2; exit 2; }
SCAN=$TOP/bin/cairn-scan
GEN=$TOP/dist/bench/gen.js
MEASURE=$TOP/dist/bench/measure.js
READER=$TOP/dist/bench/ndjson-reader.js
WRITER=$TOP/dist/bench/ndjson-writer.js
MIRROR=$TOP/bench/mirror.sh
BISYNC=$TOP/bench/bisync.sh
DIFF=$TOP/bin/cairn-diff
PLAN=$TOP/bin/cairn-plan
# Destinations of the sync sections: under BENCH_DIR, beside their sources (one filesystem, checked).
MDIR=$DIR/mirror
LOGS=$DIR/logs
# find's listing, the reference walk for scans: type, size, mtime, mode, path of everything.
FIND_FMT='%y %s %T@ %m %p\n'

for n in "BENCH_RUNS=$RUNS" "BENCH_RSS_RUNS=$RSS_RUNS" "BENCH_MIRROR_RUNS=${BENCH_MIRROR_RUNS-1}"; do
  case ${n#*=} in '' | *[!0-9]* | 0) echo "bench: ${n%%=*} must be a positive integer, got '${n#*=}'" >&2; exit 2 ;; esac
done
for b in $(echo "$ONLY" | tr ',' ' '); do
  case ,$ALL, in *,$b,*) ;;
    *) echo "bench: BENCH_ONLY: unknown benchmark '$b' (known: $ALL)" >&2; exit 2 ;;
  esac
done
case $SYNC_WHEN in start | each) ;; *) echo "bench: BENCH_SYNC must be start or each, got '$SYNC_WHEN'" >&2; exit 2 ;; esac
for f in "$GEN" "$MEASURE" "$READER"; do
  [ -f "$f" ] || { echo "bench: $f is missing: run 'make bench' (it builds dist/ first)" >&2; exit 2; }
done
mkdir -p "$LOGS" || exit 2

have() { command -v "$1" >/dev/null 2>&1; }
wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
# q WORD: WORD single-quoted, for the command strings that hyperfine -N and measure.js split.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
note() { echo "    $*"; }
now() { date +%s; }

# ---- results ------------------------------------------------------------

PASS=0 FAIL=0 SKIP=0 INFO=0
row() { # row WHAT CAIRN REFERENCE RATIO TARGET RESULT
  printf '%-44s %-14s %-30s %-7s %-18s %s\n' "$1" "$2" "$3" "$4" "$5" "$6"
  case $6 in PASS) PASS=$((PASS + 1)) ;; FAIL) FAIL=$((FAIL + 1)) ;; SKIP) SKIP=$((SKIP + 1)) ;; *) INFO=$((INFO + 1)) ;; esac
}
# Results are "ok NUMBER...", "error WHY" or "skip WHY", kept in R_<key>.
res() { eval "printf '%s' \"\${R_$1:-skip not measured}\""; }
set_res() { eval "R_$1=\$2"; }
is_ok() { case $1 in ok\ *) return 0 ;; esac; return 1; }
val() { set -- ${1#ok }; printf '%s' "$1"; } # first number of an ok result
why() { printf '%s' "${1#* }"; }

fmt_time() { awk -v t="$1" 'BEGIN { if (t < 1) printf "%.1f ms", t * 1000; else printf "%.3f s", t }'; }
fmt_mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; } # from KiB; MB = 10^6 bytes
# fmt_rate N SECONDS [UNIT]: N per second, in k or M UNIT/s (default: lines).
fmt_rate() { awk -v n="$1" -v t="$2" -v u="${3:-lines}" 'BEGIN { r = n / t; if (r >= 1e6) printf "%.2fM %s/s", r / 1e6, u; else printf "%.0fk %s/s", r / 1e3, u }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# judge WHAT CAIRN_KEY REF_LABEL REF_KEY LIMIT: times; cairn / reference must be <= LIMIT
# (a number), or LIMIT is "info" and the line only reports.
judge() {
  _what=$1 _c=$(res "$2") _label=$3 _r=$(res "$4") _limit=$5
  if [ "$_limit" = info ]; then _target='(info)'; else _target="<= $(awk -v l="$_limit" 'BEGIN { printf "%.2f", l }')x"; fi
  if ! is_ok "$_c"; then
    _result=FAIL; [ "$_limit" = info ] && _result=INFO
    case $_c in skip\ *) [ "$_limit" = info ] || _result=SKIP ;; esac
    row "$_what" "-" "$_label" "-" "$_target" "$_result"
    note "cairn: $(why "$_c")"
    return
  fi
  _cv=$(val "$_c") _cs=$(fmt_time "$(val "$_c")")
  if ! is_ok "$_r"; then
    _result=SKIP; [ "$_limit" = info ] && _result=INFO
    row "$_what" "$_cs" "$_label -" "-" "$_target" "$_result"
    note "$_label: $(why "$_r")"
    return
  fi
  _rv=$(val "$_r") _rs=$(fmt_time "$(val "$_r")")
  _x=$(ratio "$_cv" "$_rv")
  if [ "$_limit" = info ]; then _result=INFO; elif le "${_x%x}" "$_limit"; then _result=PASS; else _result=FAIL; fi
  row "$_what" "$_cs" "$_label $_rs" "$_x" "$_target" "$_result"
}

# judge_time WHAT KEY SECONDS: a time with no reference run beside it; cairn's must be < SECONDS.
judge_time() {
  _c=$(res "$2")
  if is_ok "$_c"; then
    if le "$(val "$_c")" "$3"; then _result=PASS; else _result=FAIL; fi
    row "$1" "$(fmt_time "$(val "$_c")")" "-" "-" "< $3 s" "$_result"
  else
    row "$1" "-" "-" "-" "< $3 s" FAIL
    note "cairn: $(why "$_c")"
  fi
}

# ---- measuring ----------------------------------------------------------

if [ "${BENCH_TIMER:-}" = own ] || ! have hyperfine; then TIMER=own; else TIMER=hyperfine; fi

# group NAME RUNS KEY=CMD...: times the commands together, sets R_KEY for each.
# measure.js runs each command once before timing (the cache warm-up, and a
# check that it works), so no further warm-up runs are asked for.
group() {
  _g=$1 _n=$2
  shift 2
  _out=$("$NODE" "$MEASURE" group --runs "$_n" --warmup 0 --timer "$TIMER" --log "$LOGS/$_g" "$@" 2>"$LOGS/$_g.err") ||
    _out=$(for _a in "$@"; do echo "${_a%%=*} error $(tail -n 1 "$LOGS/$_g.err")"; done)
  while read -r _k _rest; do [ -n "$_k" ] && set_res "$_k" "$_rest"; done <<EOF
$_out
EOF
}

# group_alt NAME RUNS PREPARE KEY=CMD...: like group, but always timed by measure.js's loop,
# which runs the commands in turn in every round; PREPARE (a command, or '' for none) runs
# untimed before every run. There is no separate first run: the caller has run and
# checked the commands already; a command that fails is reported as an error.
group_alt() {
  _g=$1 _n=$2 _p=$3
  shift 3
  _keys=
  for _a in "$@"; do _keys="$_keys ${_a%%=*}"; done
  if [ -n "$_p" ]; then set -- --prepare "$_p" "$@"; fi
  _out=$("$NODE" "$MEASURE" group --runs "$_n" --warmup 0 --timer own --no-first-run --log "$LOGS/$_g" "$@" 2>"$LOGS/$_g.err") ||
    _out=$(for _k in $_keys; do echo "$_k error $(tail -n 1 "$LOGS/$_g.err")"; done)
  while read -r _k _rest; do [ -n "$_k" ] && set_res "$_k" "$_rest"; done <<EOF
$_out
EOF
}

RSS_VIA=${BENCH_RSS:-}
if [ -z "$RSS_VIA" ]; then
  if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then RSS_VIA=gnu-time; else RSS_VIA=proc; fi
fi

# rss KEY RUNS CMD: R_KEY = "ok KIB SECONDS MIN_KIB MAX_KIB", medians of peak RSS and wall time over RUNS runs.
rss() {
  if _o=$("$NODE" "$MEASURE" rss --via "$RSS_VIA" --runs "$2" "$3" 2>&1); then set_res "$1" "ok $_o"; else set_res "$1" "error $_o"; fi
}

# ensure NAME SPEC GEN-ARGS...: $DIR/NAME exists as generated from SPEC, or is made now.
ensure() {
  _name=$1 _spec=$2
  shift 2
  if [ -d "$DIR/$_name" ] && [ "$(cat "$DIR/$_name.ok" 2>/dev/null)" = "$_spec" ]; then return 0; fi
  rm -f "$DIR/$_name.ok"
  note "generating $DIR/$_name ($_spec): once, later runs reuse it"
  _t=$(now)
  if ! "$NODE" "$GEN" "$@" >"$LOGS/gen-$_name.txt" 2>&1; then
    note "generating $_name failed: $(tail -n 1 "$LOGS/gen-$_name.txt")"
    return 1
  fi
  echo "$_spec" >"$DIR/$_name.ok"
  note "generated in $(($(now) - _t)) s: $(head -n 1 "$LOGS/gen-$_name.txt")"
}

TREE=$DIR/tree100k
ensure_tree() { ensure tree100k "gen-v1 tree 100x10x100" tree "$TREE"; }

# ---- the benchmarks -----------------------------------------------------

bench_scan() {
  echo "== scan: cairn-scan (no hashing) over a 100k-file tree, warm cache"
  if ! ensure_tree; then set_res scan_cairn "error could not generate the tree"; else
    set -- "scan_cairn=$(q "$SCAN") $(q "$TREE")" "scan_find=find $(q "$TREE") -printf $(q "$FIND_FMT")"
    if have rclone; then set -- "$@" "scan_rclone=rclone lsjson -R $(q "$TREE")"; else set_res scan_rclone "skip rclone not installed"; fi
    if have rsync; then set -- "$@" "scan_rsync=rsync -a --list-only $(q "$TREE/")"; else set_res scan_rsync "skip rsync not installed"; fi
    if have tar && tar --version 2>/dev/null | grep -q GNU; then set -- "$@" "scan_tar=tar -cf /dev/null -C $(q "$TREE") ."; else set_res scan_tar "skip GNU tar not installed"; fi
    have find || set_res scan_find "skip find not installed"
    group scan "$RUNS" "$@"
  fi
  judge "scan 100k tree vs find -printf" scan_cairn "find" scan_find 2.0
  judge "scan 100k tree vs rclone lsjson -R" scan_cairn "rclone" scan_rclone info
  judge "scan 100k tree vs rsync -a --list-only" scan_cairn "rsync" scan_rsync info
  judge "scan 100k tree vs tar -cf /dev/null" scan_cairn "tar" scan_tar info
}

bench_hash() {
  echo "== hash: cairn-scan --hash sha256 (and blake3) over four 256 MiB files, warm cache"
  B=$DIR/big4
  if ! ensure big4 "gen-v1 big 4x256MiB" big "$B" 4 256; then set_res hash_cairn "error could not generate the files"; else
    FILES="$(q "$B/f1.bin") $(q "$B/f2.bin") $(q "$B/f3.bin") $(q "$B/f4.bin")"
    set -- "hash_cairn=$(q "$SCAN") --hash sha256 $(q "$B")" "hash_cairnb3=$(q "$SCAN") --hash blake3 $(q "$B")"
    if have openssl; then set -- "$@" "hash_openssl=openssl dgst -sha256 $FILES"; else set_res hash_openssl "skip openssl not installed"; fi
    if have sha256sum; then set -- "$@" "hash_sha256sum=sha256sum $FILES"; else set_res hash_sha256sum "skip sha256sum not installed"; fi
    if have b3sum; then set -- "$@" "hash_b3sum=b3sum $FILES"; else set_res hash_b3sum "skip b3sum not installed (apt-get install b3sum)"; fi
    group hash "$RUNS" "$@"
  fi
  judge "sha256 4x256 MiB vs openssl dgst -sha256" hash_cairn "openssl" hash_openssl 1.25
  judge "sha256 4x256 MiB vs sha256sum" hash_cairn "sha256sum" hash_sha256sum info
  judge "sha256 4x256 MiB vs b3sum (BLAKE3)" hash_cairn "b3sum" hash_b3sum info
  # b3sum uses every core (and mmap); cairn hashes a file on one thread.
  judge "blake3 4x256 MiB vs b3sum" hash_cairnb3 "b3sum" hash_b3sum info
}

bench_reuse() {
  echo "== reuse: re-scan an unchanged hashed 100k tree with --reuse"
  H=$DIR/tree100k.sha256.ndjson
  if ! ensure_tree; then set_res reuse_cairn "error could not generate the tree"; else
    # Made fresh every run, so that it is in the current format and matches the tree's ctimes.
    _t=$(now)
    if ! "$SCAN" --hash sha256 "$TREE" >"$H.tmp" 2>"$LOGS/reuse-hash.err"; then
      set_res reuse_cairn "error cairn-scan --hash sha256 failed: $(tail -n 1 "$LOGS/reuse-hash.err")"
    else
      mv "$H.tmp" "$H"
      note "hashed scan for --reuse written in $(($(now) - _t)) s: $H"
      # Reusing must give the same entries as hashing (the header aside).
      tail -n +2 "$H" >"$H.body"
      "$SCAN" --hash sha256 --reuse "$H" "$TREE" 2>/dev/null | tail -n +2 | cmp -s - "$H.body" ||
        note "WARNING: --reuse output differs from the hashed scan it reused (beyond the header)"
      group reuse "$RUNS" \
        "reuse_cairn=$(q "$SCAN") --hash sha256 --reuse $(q "$H") $(q "$TREE")" \
        "reuse_plain=$(q "$SCAN") $(q "$TREE")" \
        "reuse_full=$(q "$SCAN") --hash sha256 $(q "$TREE")"
    fi
  fi
  judge "re-scan --hash --reuse vs plain scan" reuse_cairn "plain scan" reuse_plain 1.3
  judge "hash 100k tree from scratch vs plain scan" reuse_full "plain scan" reuse_plain info
}

bench_rss() {
  echo "== rss: peak resident memory scanning 1M entries, output to /dev/null (cairn: median of $RSS_RUNS, find: 1 run; by $RSS_VIA)"
  if [ "$RSS_VIA" = proc ]; then
    [ -n "${BENCH_RSS:-}" ] || note "GNU time not found (apt-get install time):"
    note "peak RSS read by polling VmHWM in /proc/PID/status every 5 ms"
  fi
  for shape in flat deep; do
    T=$DIR/${shape}1m _made=y
    if [ $shape = flat ]; then
      _desc="1M files in one directory"
      ensure flat1m "gen-v1 flat 1000000" flat "$T" 1000000 || _made=n
    else
      # 50 chains of 200 nested levels, each level 99 files + the next directory: 1M entries, paths up to ~600 bytes.
      _desc="1M entries, 200 levels deep"
      ensure deep1m "gen-v1 deep 50x200x100" deep "$T" 50 200 100 || _made=n
    fi
    if [ $_made = n ]; then
      set_res "rss_${shape}_cairn" "error could not generate the tree"
    else
      rss "rss_${shape}_cairn" "$RSS_RUNS" "$(q "$SCAN") $(q "$T")"
      if have find; then rss "rss_${shape}_find" 1 "find $(q "$T") -printf $(q "$FIND_FMT")"; else set_res "rss_${shape}_find" "skip find not installed"; fi
    fi
    _c=$(res "rss_${shape}_cairn") _r=$(res "rss_${shape}_find")
    if ! is_ok "$_c"; then
      row "peak RSS, scan $_desc" "-" "find -" "-" "< 200 MB" FAIL
      note "cairn: $(why "$_c")"
      continue
    fi
    _kb=$(val "$_c")
    if le "$(awk -v k="$_kb" 'BEGIN { print k * 1024 / 1e6 }')" 200; then _result=PASS; else _result=FAIL; fi
    if is_ok "$_r"; then _ref="find $(fmt_mb "$(val "$_r")")" _x=$(ratio "$_kb" "$(val "$_r")"); else _ref="find -" _x=-; fi
    row "peak RSS, scan $_desc" "$(fmt_mb "$_kb")" "$_ref" "$_x" "< 200 MB" "$_result"
    is_ok "$_r" || note "find: $(why "$_r")"
    set -- ${_c#ok }
    [ "$RSS_RUNS" -gt 1 ] && note "cairn peak RSS ranged $(fmt_mb "$3") .. $(fmt_mb "$4") over $RSS_RUNS runs"
    # The wall times of the same runs, for context.
    set_res "rsst_${shape}_cairn" "ok $2"
    if is_ok "$_r"; then set -- ${_r#ok }; set_res "rsst_${shape}_find" "ok $2"; else set_res "rsst_${shape}_find" "$_r"; fi
    judge "time, scan $_desc" "rsst_${shape}_cairn" "find" "rsst_${shape}_find" info
  done
}

bench_startup() {
  _n=$RUNS
  [ "$_n" -lt 20 ] && _n=20
  echo "== startup: cairn-scan --version vs node -e 0 (median of $_n)"
  group startup "$_n" "startup_cairn=$(q "$SCAN") --version" "startup_node=$(q "$NODE") -e 0"
  judge "start-up: cairn-scan --version vs node -e 0" startup_cairn "node -e 0" startup_node 1.5
}

bench_reader() {
  echo "== reader: read and validate an entries stream of ~1M lines (10 copies of the 100k scan)"
  S=$DIR/tree100k.ndjson F=$DIR/entries1m.ndjson
  if ! ensure_tree; then set_res reader_cairn "error could not generate the tree"; else
    if ! "$SCAN" "$TREE" >"$S" 2>"$LOGS/reader-scan.err" || ! "$NODE" "$GEN" fixture "$S" "$F" 10 >/dev/null 2>"$LOGS/reader-fixture.err"; then
      set_res reader_cairn "error making the fixture failed: $(cat "$LOGS/reader-scan.err" "$LOGS/reader-fixture.err" | tail -n 1)"
    else
      LINES=$(wc -l <"$F" | tr -d ' ')
      # Each reader must get through the whole file, or its speed means nothing.
      for m in cairn ndjson ndjson-validate; do
        _got=$("$NODE" "$READER" $m "$F" 2>&1 | tail -n 1)
        [ "${_got%% *}" = "$LINES" ] || note "WARNING: reader $m read '${_got}' of $LINES lines"
      done
      group reader "$RUNS" \
        "reader_cairn=$(q "$NODE") $(q "$READER") cairn $(q "$F")" \
        "reader_ndjson=$(q "$NODE") $(q "$READER") ndjson $(q "$F")" \
        "reader_ndjsonv=$(q "$NODE") $(q "$READER") ndjson-validate $(q "$F")"
    fi
  fi
  _c=$(res reader_cairn) _r=$(res reader_ndjson)
  if is_ok "$_c"; then
    _cv=$(val "$_c")
    _rate=$(awk -v n="$LINES" -v t="$_cv" 'BEGIN { print n / t }')
    if le 400000 "$_rate"; then _result=PASS; else _result=FAIL; fi
    if is_ok "$_r"; then _ref="ndjson $(fmt_rate "$LINES" "$(val "$_r")")"; _x=$(ratio "$_cv" "$(val "$_r")"); else _ref="ndjson -"; _x=-; fi
    row "NDJSON read+validate, $LINES lines" "$(fmt_rate "$LINES" "$_cv")" "$_ref" "$_x" ">= 400k lines/s" "$_result"
    is_ok "$_r" || note "ndjson: $(why "$_r")"
    note "times: cairn $(fmt_time "$_cv") per file (whole process, node start-up included); ndjson = ndjson.parse() only, no validation"
    _v=$(res reader_ndjsonv)
    if is_ok "$_v"; then
      row "NDJSON: ndjson.parse() + cairn's checks" "$(fmt_rate "$LINES" "$_cv")" "ndjson+checks $(fmt_rate "$LINES" "$(val "$_v")")" "$(ratio "$_cv" "$(val "$_v")")" "(info)" INFO
    else
      row "NDJSON: ndjson.parse() + cairn's checks" "$(fmt_rate "$LINES" "$_cv")" "ndjson+checks -" "-" "(info)" INFO
      note "ndjson+checks: $(why "$_v")"
    fi
  else
    row "NDJSON read+validate, ~1M lines" "-" "ndjson -" "-" ">= 400k lines/s" FAIL
    note "cairn: $(why "$_c")"
  fi
  # The writer, measured in-process (best of 3, fixture parsed beforehand): lines/s.
  if [ -f "$F" ]; then
    _w=$("$NODE" "$WRITER" cairn-lines "$F" 2>>"$LOGS/writer.err") _o=$("$NODE" "$WRITER" cairn "$F" 2>>"$LOGS/writer.err") _n=$("$NODE" "$WRITER" ndjson "$F" 2>>"$LOGS/writer.err")
    if [ -n "$_w" ] && [ -n "$_n" ] && [ -n "$_o" ]; then
      _rw=$(awk -v a="$_w" 'BEGIN { split(a, x, " "); printf "%dk lines/s", x[1] / x[2] / 1000 }')
      _ro=$(awk -v a="$_o" 'BEGIN { split(a, x, " "); printf "%dk lines/s", x[1] / x[2] / 1000 }')
      _rn=$(awk -v a="$_n" 'BEGIN { split(a, x, " "); printf "%dk lines/s", x[1] / x[2] / 1000 }')
      _xw=$(awk -v a="$_w" -v b="$_n" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2fx", x[2] / y[2] }')
      _xo=$(awk -v a="$_o" -v b="$_n" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2fx", x[2] / y[2] }')
      row "NDJSON write, entryLine (what scan does)" "$_rw" "ndjson.stringify $_rn" "$_xw" "(info)" INFO
      row "NDJSON write, JSON.stringify records" "$_ro" "ndjson.stringify $_rn" "$_xo" "(info)" INFO
    else
      note "writer: could not measure: $(tail -n 1 "$LOGS/writer.err")"
    fi
  fi
}

# ---- the sync sections: mirror, copy, diff ------------------------------

# same_fs A B: A and B (both existing) lie on one filesystem.
same_fs() { [ "$(stat -L -c %d "$1" 2>/dev/null)" = "$(stat -L -c %d "$2" 2>/dev/null)" ] && [ -n "$(stat -L -c %d "$1" 2>/dev/null)" ]; }
# fresh DIR: DIR removed and made again, empty.
fresh() { rm -rf -- "$1" && mkdir -p -- "$1"; }
# fresh_cmd DIR: the same as a command for measure.js --prepare (and a sync with BENCH_SYNC=each).
fresh_cmd() {
  if [ "$SYNC_WHEN" = each ]; then _sc='rm -rf -- "$1" && mkdir -- "$1" && sync'; else _sc='rm -rf -- "$1" && mkdir -- "$1"'; fi
  printf 'sh -c %s sh %s' "$(q "$_sc")" "$(q "$1")"
}
# settle: write back what earlier steps left dirty, so the timed runs start alike (untimed).
settle() {
  _t=$(now)
  sync
  note "sync before the timed runs (untimed): $(($(now) - _t)) s"
}
# loud WHAT: a broken result, on stderr too, so that it is seen when stdout goes to a file.
loud() { echo "bench: $*" >&2; }

# check_mirror WHAT SRC DST TAG [again]: is DST a mirror of SRC? Rows for
# `rsync -aniH --delete SRC/ DST/` (type, size, mtime to the second, perms,
# owners, hard links, extras) and the same with -c (content), each of which
# must print nothing, and an info row comparing mtimes to the microsecond
# (find; rsync compares whole seconds, and cairn sets times to ~1/4 us).
# With "again" only the first check runs, and only a failure makes a row.
# Output in $LOGS/TAG.*. Returns 1 when DST is not a mirror.
check_mirror() {
  _w=$1 _s=$2 _d=$3 _o=$LOGS/$4 _again=${5:-}
  _bad=0
  for _f in -aniH -anicH; do
    [ -n "$_again" ] && [ "$_f" = -anicH ] && break
    _log=$_o.rsync$_f
    if rsync "$_f" --delete "$_s/" "$_d/" >"$_log" 2>&1; then _n=$(wc -l <"$_log" | tr -d ' ') _st="$(wc -l <"$_log" | tr -d ' ') lines"; else _n=x _st="rsync failed"; fi
    if [ "$_n" = 0 ]; then
      [ -n "$_again" ] && note "$_w: rsync $_f --delete printed nothing" || row "$_w: rsync $_f --delete" "$_st" "-" "-" "prints nothing" PASS
      continue
    fi
    _bad=1
    row "$_w: rsync $_f --delete" "$_st" "-" "-" "prints nothing" FAIL
    sed -n 1,5p "$_log" | while IFS= read -r _l; do note "  $_l"; done
    note "all of it in $_log"
    loud "$_w: $_d IS NOT A MIRROR OF $_s: rsync $_f --delete printed $_st; see $_log"
  done
  [ -n "$_again" ] && return $_bad
  # find's %T@ has 10 fractional digits; the difference in ns is exact in awk as whole seconds and nanoseconds apart.
  _fmt='%p\t%y\t%m\t%U\t%G\t%l\t%T@\n'
  (cd "$_s" && find . -printf "$_fmt" | LC_ALL=C sort) >"$_o.find-src" 2>&1
  (cd "$_d" && find . -printf "$_fmt" | LC_ALL=C sort) >"$_o.find-dst" 2>&1
  _m=$(awk -F '\t' '
    NR == FNR { t[$1] = $7; a[$1] = $2 " " $3 " " $4 " " $5 " " $6; next }
    !($1 in t) { extra++; next }
    {
      seen++
      if (a[$1] != $2 " " $3 " " $4 " " $5 " " $6) attr++
      split(t[$1], x, "."); split($7, y, ".")
      d = (x[1] - y[1]) * 1e9 + (substr(x[2] "000000000", 1, 9) - substr(y[2] "000000000", 1, 9))
      if (d < 0) d = -d
      if (d > max) max = d
      if (d >= 1000) off++
      delete t[$1]
    }
    END { missing = 0; for (p in t) missing++; printf "%d %d %d %d %d %d", seen, off, max, attr, missing, extra }
  ' "$_o.find-src" "$_o.find-dst")
  set -- $_m
  if [ "$#" != 6 ]; then note "$_w: could not compare find listings ($_o.find-*)"; return $_bad; fi
  row "$_w: mtimes to 1 us (find)" "$2/$1 off" "-" "-" "(info)" INFO
  note "largest mtime difference: $3 ns (cairn sets times through utimes(), to about 1/4 us); type/mode/owner/target differ: $4, missing: $5, extra: $6"
  if [ "$4$5$6" != 000 ]; then _bad=1; loud "$_w: find listings of $_s and $_d differ beyond mtimes: see $_o.find-*"
  elif [ "$2" = 0 ]; then rm -f "$_o.find-src" "$_o.find-dst"; fi
  return $_bad
}

# mirror_cmd SRC DST: the timed cairn pipeline, as a command for measure.js.
mirror_cmd() { printf 'sh %s %s %s' "$(q "$MIRROR")" "$(q "$1")" "$(q "$2")"; }

# checked_run WHAT SRC DST TAG KEY: one untimed cairn mirror into DST (which must exist),
# its results in $LOGS/TAG.results, then check_mirror. On failure sets R_KEY to the error.
checked_run() {
  _t=$(now)
  if ! sh "$MIRROR" "$2" "$3" "$LOGS/$4.results" 2>"$LOGS/$4.err"; then
    set_res "$5" "error the checked run failed: $(tail -n 1 "$LOGS/$4.err")"
    note "the checked run failed: $(tail -n 1 "$LOGS/$4.err")"
    _st=$(grep -o '"status":"[a-z-]*"' "$LOGS/$4.results" 2>/dev/null | sort | uniq -c | tr -s ' \n' ' ')
    [ -n "$_st" ] && note "results: $_st(all in $LOGS/$4.results)"
    loud "$1: cairn failed: $(tail -n 1 "$LOGS/$4.err")"
    check_mirror "$1" "$2" "$3" "$4" >/dev/null 2>&1
    return 1
  fi
  note "checked run (untimed, warms the cache): $(($(now) - _t)) s, results in $LOGS/$4.results"
  check_mirror "$1" "$2" "$3" "$4" || { set_res "$5" "error the result is not a mirror (see the rows above)"; return 1; }
}

bench_mirror_first() {
  D=$MDIR/first
  echo "== mirror-first: mirror the 100k-file tree into an empty directory, warm cache; rsync -aH, cp -a, cairn in turn;"
  echo "   before every run the destination is removed and made again, untimed"
  if ! ensure_tree; then set_res mf_cairn "error could not generate the tree"
  elif ! mkdir -p "$MDIR" || ! same_fs "$TREE" "$MDIR"; then set_res mf_cairn "error $MDIR is not on the filesystem of $TREE"
  else
    fresh "$D"
    _t0=$(now)
    if checked_run "first mirror" "$TREE" "$D" mirror-first mf_cairn; then
      _n=${BENCH_MIRROR_RUNS:-$RUNS}
      if [ -z "${BENCH_MIRROR_RUNS:-}" ] && [ "$_n" -gt 3 ] && [ $(($(now) - _t0)) -gt 20 ]; then
        _n=3
        note "median of 3 runs, not $RUNS: cairn's first mirror took over 20 s (BENCH_MIRROR_RUNS=$RUNS to insist)"
      else
        note "median of $_n runs"
      fi
      settle
      # cairn last in each round: what the last timed run left is checked below.
      group_alt mirror_first "$_n" "$(fresh_cmd "$D")" \
        "mf_rsync=rsync -aH $(q "$TREE/") $(q "$D/")" \
        "mf_cp=cp -a $(q "$TREE/.") $(q "$D/")" \
        "mf_cairn=$(mirror_cmd "$TREE" "$D")"
      if is_ok "$(res mf_cairn)" && ! check_mirror "first mirror, last timed run" "$TREE" "$D" mirror-first-last again; then
        set_res mf_cairn "error the last timed run's result is not a mirror (see above)"
      fi
    fi
    rm -rf -- "$D"
  fi
  judge "first mirror 100k tree vs rsync -aH" mf_cairn "rsync -aH" mf_rsync 1.0
  judge "first mirror 100k tree vs cp -a" mf_cairn "cp -a" mf_cp info
}

# noop_actions DST: how many actions cairn plans for mirroring the tree onto DST (plan in $LOGS).
noop_actions() {
  "$DIFF" "$TREE" "$1" 2>"$LOGS/mirror-noop.plan.err" | "$PLAN" --mirror --max-delete=off >"$LOGS/mirror-noop.plan" 2>>"$LOGS/mirror-noop.plan.err" || { echo x; return; }
  grep -c '^{"op":' "$LOGS/mirror-noop.plan"
}

bench_mirror_noop() {
  D=$MDIR/noop
  echo "== mirror-noop: mirror the 100k-file tree onto its mirror, nothing to do (both sides scanned, diff, plan, apply),"
  echo "   warm cache; rsync -aH --delete and cairn in turn, median of $RUNS"
  if ! ensure_tree; then set_res mn_cairn "error could not generate the tree"
  elif ! mkdir -p "$MDIR" || ! same_fs "$TREE" "$MDIR"; then set_res mn_cairn "error $MDIR is not on the filesystem of $TREE"
  else
    _ready=n
    # The mirror is kept between runs of the bench, while rsync finds nothing to do.
    if [ -d "$D" ] && [ -z "$(rsync -aniH --delete "$TREE/" "$D/" 2>&1 | head -n 1)" ]; then
      _ready=y
      note "reusing the mirror $D (rsync -aniH --delete prints nothing)"
    else
      note "making the mirror $D with cairn (once; later runs reuse it)"
      fresh "$D"
      checked_run "noop setup mirror" "$TREE" "$D" mirror-noop-setup mn_cairn && _ready=y
    fi
    if [ $_ready = y ]; then
      _n=$(noop_actions "$D")
      case $_n in
        0) row "no-op mirror: cairn-plan --mirror" "0 actions" "-" "-" "0 actions" PASS ;;
        x) row "no-op mirror: cairn-plan --mirror" "failed" "-" "-" "0 actions" FAIL
           note "$(tail -n 1 "$LOGS/mirror-noop.plan.err")"; loud "mirror-noop: cairn-diff | cairn-plan failed: $(tail -n 1 "$LOGS/mirror-noop.plan.err")" ;;
        *) row "no-op mirror: cairn-plan --mirror" "$_n actions" "-" "-" "0 actions" FAIL
           grep '^{"op":' "$LOGS/mirror-noop.plan" | head -n 3 | cut -c 1-150 | while IFS= read -r _l; do note "  $_l"; done
           loud "mirror-noop: cairn plans $_n actions on a tree rsync calls mirrored: see $LOGS/mirror-noop.plan" ;;
      esac
      group_alt mirror_noop "$RUNS" "" \
        "mn_rsync=rsync -aH --delete $(q "$TREE/") $(q "$D/")" \
        "mn_cairn=$(mirror_cmd "$TREE" "$D")"
      if is_ok "$(res mn_cairn)" && ! check_mirror "no-op mirror, after the timed runs" "$TREE" "$D" mirror-noop-last again; then
        set_res mn_cairn "error the mirror is not one after the timed runs (see above)"
      fi
    fi
  fi
  judge "no-op mirror 100k tree vs rsync --delete" mn_cairn "rsync -aH --delete" mn_rsync 2.0
}

# bisync_actions A B STATE: how many records cairn plans for a two-way sync of A and B (plan in $LOGS).
bisync_actions() {
  "$DIFF" --base "$3" "$1" "$2" 2>"$LOGS/bisync-noop.plan.err" | "$PLAN" --bisync >"$LOGS/bisync-noop.plan" 2>>"$LOGS/bisync-noop.plan.err" || { echo x; return; }
  grep -c '^{"op":' "$LOGS/bisync-noop.plan"
}

bench_bisync_noop() {
  D=$MDIR/noop ST=$MDIR/noop.bisync-state
  echo "== bisync-noop: two-way sync of the 100k-file tree and its mirror with their state, nothing to do (both scans,"
  echo "   the state, three-way diff, plan, apply); rsync -aH --delete and cairn in turn, median of $RUNS; peak RSS of"
  echo "   cairn-diff --base on streams of 100k and of 1M entries"
  if ! ensure_tree; then set_res bn_cairn "error could not generate the tree"
  elif ! mkdir -p "$MDIR" || ! same_fs "$TREE" "$MDIR"; then set_res bn_cairn "error $MDIR is not on the filesystem of $TREE"
  else
    _ready=n
    if [ -d "$D" ] && [ -z "$(rsync -aniH --delete "$TREE/" "$D/" 2>&1 | head -n 1)" ]; then _ready=y
    else
      note "making the mirror $D with cairn (once; later runs reuse it)"
      rm -f "$ST"
      fresh "$D"
      checked_run "bisync setup mirror" "$TREE" "$D" bisync-noop-setup bn_cairn && _ready=y
    fi
    if [ $_ready = y ] && [ ! -s "$ST" ]; then
      # The first two-way run hashes both sides to adopt them: once, untimed.
      _t=$(now)
      if sh "$BISYNC" "$TREE" "$D" "$ST" 2>"$LOGS/bisync-noop.first.err"; then note "first two-way run (adopts both sides, hashing them): $(($(now) - _t)) s, once"
      else _ready=n; set_res bn_cairn "error the first two-way run failed: $(tail -n 1 "$LOGS/bisync-noop.first.err")"; fi
    fi
    if [ $_ready = y ]; then
      _n=$(bisync_actions "$TREE" "$D" "$ST")
      case $_n in
        0) row "no-op bisync: cairn-plan --bisync" "0 actions" "-" "-" "0 actions" PASS ;;
        *) row "no-op bisync: cairn-plan --bisync" "$_n actions" "-" "-" "0 actions" FAIL
           note "$(tail -n 1 "$LOGS/bisync-noop.plan.err")"
           loud "bisync-noop: cairn plans $_n actions on a synced pair: see $LOGS/bisync-noop.plan" ;;
      esac
      group_alt bisync_noop "$RUNS" "" \
        "bn_rsync=rsync -aH --delete $(q "$TREE/") $(q "$D/")" \
        "bn_cairn=sh $(q "$BISYNC") $(q "$TREE") $(q "$D") $(q "$ST")"
      if [ -n "$(rsync -aniH --delete "$TREE/" "$D/" 2>&1 | head -n 1)" ]; then
        set_res bn_cairn "error the pair differs after the timed runs (rsync -aniH --delete finds work)"
      fi
    fi
  fi
  judge "no-op bisync 100k tree vs rsync --delete" bn_cairn "rsync -aH --delete" bn_rsync 2.5
  # Memory flat in the number of files: the three-way diff of a stream with itself, as base and both sides.
  _s=$DIR/tree100k.ndjson _m=$DIR/entries1m.ndjson
  if ensure_tree && { [ -s "$_s" ] || "$SCAN" "$TREE" >"$_s" 2>"$LOGS/bisync-scan.err"; } &&
    { [ -s "$_m" ] || "$NODE" "$GEN" fixture "$_s" "$_m" 10 >/dev/null 2>"$LOGS/bisync-fixture.err"; }; then
    # Side b: the same entries under another root (cairn-diff --base refuses two sides that are one tree).
    sed '1s|"root":"|"root":"/side-b|' "$_s" >"$_s.b" && sed '1s|"root":"|"root":"/side-b|' "$_m" >"$_m.b"
    rss bn_rss_100k "$RSS_RUNS" "$(q "$DIFF") --base $(q "$_s") $(q "$_s") $(q "$_s.b")"
    rss bn_rss_1m "$RSS_RUNS" "$(q "$DIFF") --base $(q "$_m") $(q "$_m") $(q "$_m.b")"
    _a=$(res bn_rss_100k) _b=$(res bn_rss_1m)
    if is_ok "$_a" && is_ok "$_b"; then
      _x=$(ratio "$(val "$_b")" "$(val "$_a")")
      if le "${_x%x}" 1.5; then _result=PASS; else _result=FAIL; fi
      row "peak RSS, diff --base 1M vs 100k entries" "$(fmt_mb "$(val "$_b")")" "100k $(fmt_mb "$(val "$_a")")" "$_x" "<= 1.50x (flat)" "$_result"
    else
      row "peak RSS, diff --base 1M vs 100k entries" "-" "-" "-" "<= 1.50x (flat)" FAIL
      note "$(why "$_a") $(why "$_b")"
    fi
  else
    row "peak RSS, diff --base 1M vs 100k entries" "-" "-" "-" "<= 1.50x (flat)" FAIL
    note "could not make the streams: $(cat "$LOGS/bisync-scan.err" "$LOGS/bisync-fixture.err" 2>/dev/null | tail -n 1)"
  fi
}

bench_copy_big() {
  B=$DIR/big4 D=$MDIR/big
  echo "== copy-big: copy four 256 MiB files into a new directory, warm cache; cp, rsync -aH, cairn (the mirror pipeline)"
  echo "   in turn, median of $RUNS; before every run the destination is removed and made again, untimed"
  if ! ensure big4 "gen-v1 big 4x256MiB" big "$B" 4 256; then set_res cb_cairn "error could not generate the files"
  elif ! mkdir -p "$MDIR" || ! same_fs "$B" "$MDIR"; then set_res cb_cairn "error $MDIR is not on the filesystem of $B"
  else
    fresh "$D"
    if checked_run "copy-big" "$B" "$D" copy-big cb_cairn; then
      # The copy engine alone: a plan saved against the empty destination, replayed by cairn-apply.
      _cbplan=$LOGS/copy-big.plan
      fresh "$D"
      "$DIFF" "$B" "$D" | "$PLAN" --mirror >"$_cbplan"
      settle
      group_alt copy_big "$RUNS" "$(fresh_cmd "$D")" \
        "cb_cp=cp $(q "$B/f1.bin") $(q "$B/f2.bin") $(q "$B/f3.bin") $(q "$B/f4.bin") $(q "$D/")" \
        "cb_rsync=rsync -aH $(q "$B/") $(q "$D/")" \
        "cb_cairn=$(mirror_cmd "$B" "$D")" \
        "cb_apply=$(q "$TOP/bin/cairn-apply") $(q "$_cbplan")"
      if is_ok "$(res cb_cairn)"; then
        for _f in f1.bin f2.bin f3.bin f4.bin; do
          cmp -s "$B/$_f" "$D/$_f" || { set_res cb_cairn "error the last timed run left $D/$_f unlike $B/$_f"; loud "copy-big: $D/$_f differs from $B/$_f"; }
        done
      fi
    fi
    rm -rf -- "$D"
  fi
  judge "copy 4x256 MiB into new dir vs cp" cb_cairn "cp" cb_cp 1.2
  judge "copy 4x256 MiB: cairn-apply of a saved plan vs cp" cb_apply "cp" cb_cp info
  judge "copy 4x256 MiB into new dir vs rsync -aH" cb_cairn "rsync -aH" cb_rsync info
}

bench_diff_1m() {
  S=$DIR/tree100k.ndjson P=$DIR/diff1m
  echo "== diff-1m: cairn-diff of two entries streams of ~1M entries (10 copies of the 100k scan), 1% of the files differing"
  NA=
  if ! ensure_tree; then set_res dd_cairn "error could not generate the tree"
  elif ! "$SCAN" "$TREE" >"$S" 2>"$LOGS/diff-1m-scan.err" || ! "$NODE" "$GEN" pair "$S" "$P" 10 >"$LOGS/diff-1m-gen.txt" 2>&1; then
    # Made fresh every run, like the reader's fixture: in the current format.
    set_res dd_cairn "error making the streams failed: $(cat "$LOGS/diff-1m-scan.err" "$LOGS/diff-1m-gen.txt" | tail -n 1)"
  else
    A=$P/a.ndjson Bs=$P/b.ndjson
    set -- $(cat "$P/expect.txt")
    NA=$2 NB=$4 _want="differ $6 a-only $8 b-only ${10}"
    note "A: $NA entries, B: $NB entries; generated differences: $_want"
    # --check must find exactly what was generated (exit 1: there are differences).
    "$DIFF" --check "$A" "$Bs" >"$LOGS/diff-1m.check" 2>"$LOGS/diff-1m.check.err"
    _rc=$?
    _got=$(cut -f 1 "$LOGS/diff-1m.check" | sort | uniq -c | awk '{ n[$2] = $1 } END { printf "differ %d a-only %d b-only %d", n["differ"], n["a-only"], n["b-only"] }')
    if [ "$_rc" = 1 ] && [ "$_got" = "$_want" ]; then
      row "diff 1M: --check finds what was made" "$(($6 + $8 + ${10})) lines" "-" "-" "the same" PASS
    else
      row "diff 1M: --check finds what was made" "exit $_rc" "-" "-" "the same" FAIL
      note "cairn-diff --check found: $_got (exit $_rc; want exit 1): $(tail -n 1 "$LOGS/diff-1m.check.err")"
      loud "diff-1m: cairn-diff --check found $_got, generated $_want: see $LOGS/diff-1m.check"
    fi
    # Peak RSS: cairn-diff writing the full changes stream, and the references (one run each).
    rss dd_rss_cairn "$RSS_RUNS" "$(q "$DIFF") $(q "$A") $(q "$Bs")"
    rss dd_rss_comm 1 "env LC_ALL=C comm -3 --nocheck-order $(q "$A") $(q "$Bs")"
    # GNU diff exits 1 on differences; through sh, whose children GNU time counts (polling /proc would see sh alone).
    DIFF_REF="sh -c $(q 'diff "$1" "$2"; [ $? -le 1 ]') sh $(q "$A") $(q "$Bs")"
    if [ "$RSS_VIA" = gnu-time ]; then rss dd_rss_diff 1 "$DIFF_REF"; else set_res dd_rss_diff "skip needs GNU time"; fi
    group_alt diff_1m "$RUNS" "" \
      "dd_cairn=$(q "$DIFF") $(q "$A") $(q "$Bs")" \
      "dd_comm=env LC_ALL=C comm -3 --nocheck-order $(q "$A") $(q "$Bs")" \
      "dd_diff=$DIFF_REF"
  fi
  # Peak RSS.
  _c=$(res dd_rss_cairn)
  if is_ok "$_c"; then
    _kb=$(val "$_c")
    if le "$(awk -v k="$_kb" 'BEGIN { print k * 1024 / 1e6 }')" 120; then _result=PASS; else _result=FAIL; fi
    _r=$(res dd_rss_comm)
    if is_ok "$_r"; then _ref="comm -3 $(fmt_mb "$(val "$_r")")" _x=$(ratio "$_kb" "$(val "$_r")"); else _ref="comm -3 -" _x=-; fi
    row "peak RSS, diff 1M x 1M entries" "$(fmt_mb "$_kb")" "$_ref" "$_x" "< 120 MB" "$_result"
    set -- ${_c#ok }
    [ "$RSS_RUNS" -gt 1 ] && note "cairn peak RSS ranged $(fmt_mb "$3") .. $(fmt_mb "$4") over $RSS_RUNS runs, by $RSS_VIA"
    _r=$(res dd_rss_diff)
    if is_ok "$_r"; then row "peak RSS, diff 1M x 1M vs GNU diff" "$(fmt_mb "$_kb")" "diff $(fmt_mb "$(val "$_r")")" "$(ratio "$_kb" "$(val "$_r")")" "(info)" INFO; fi
  else
    row "peak RSS, diff 1M x 1M entries" "-" "comm -3 -" "-" "< 120 MB" FAIL
    note "cairn: $(why "$_c")"
  fi
  # Throughput: entries of one side per second of the whole process (start-up included).
  _c=$(res dd_cairn)
  if is_ok "$_c" && [ -n "$NA" ]; then
    _cv=$(val "$_c")
    _rate=$(awk -v n="$NA" -v t="$_cv" 'BEGIN { print n / t }')
    if le 300000 "$_rate"; then _result=PASS; else _result=FAIL; fi
    _r=$(res dd_comm)
    if is_ok "$_r"; then _ref="comm -3 $(fmt_rate "$NA" "$(val "$_r")" entries)" _x=$(ratio "$_cv" "$(val "$_r")"); else _ref="comm -3 -" _x=-; fi
    row "diff 1M x 1M entries, per side" "$(fmt_rate "$NA" "$_cv" entries)" "$_ref" "$_x" ">= 300k entries/s" "$_result"
    is_ok "$_r" || note "comm: $(why "$_r")"
    note "cairn-diff: $(fmt_time "$_cv") per diff; both sides together: $(fmt_rate "$((NA + NB))" "$_cv" entries); ratio = time, cairn / reference"
    _r=$(res dd_diff)
    if is_ok "$_r"; then row "diff 1M x 1M entries vs GNU diff" "$(fmt_rate "$NA" "$_cv" entries)" "diff $(fmt_rate "$NA" "$(val "$_r")" entries)" "$(ratio "$_cv" "$(val "$_r")")" "(info)" INFO
    else note "GNU diff: $(why "$_r")"; fi
  else
    row "diff 1M x 1M entries, per side" "-" "comm -3 -" "-" ">= 300k entries/s" FAIL
    note "cairn: $(why "$_c")"
  fi
}

# ---- the archive sections: pack, plan --archive ---------------------------

. "$TOP/bench/archive.sh"

# ---- the object-storage sections ------------------------------------------

. "$TOP/bench/s3.sh"

# journal_warning: says so when BENCH_DIR is on ext4 without a journal. Such an ext4 skips, and looks up,
# every inode freed in the last 60 s (360 s while its table block is dirty) when it allocates one, so the
# sections that make 100k files after removing 100k (mirror-first, restore-100k) time the allocator, for
# every program alike (one run of rsync -aH took 7 s, the next 21 s; cairn-apply spent 55% of its samples there).
journal_warning() {
  _m=$(findmnt -no SOURCE,FSTYPE --target "$DIR" 2>/dev/null) || return 0
  set -- $_m
  [ "${2:-}" = ext4 ] && [ -d /proc/fs/jbd2 ] || return 0
  [ -e "/proc/fs/jbd2/${1##*/}-8" ] && return 0
  echo "WARNING: $DIR is on $1, an ext4 without a journal: creating files soon after removing many is slowed for every"
  echo "  program alike and varies from run to run (mirror-first, restore-100k). For figures about the programs, run"
  echo "  with BENCH_DIR on a journaled filesystem (a loop-mounted ext4 image will do)."
}

# ---- run ----------------------------------------------------------------

_start=$(now)
echo "cairn bench: $(date -u '+%Y-%m-%d %H:%M UTC'), cairn $("$SCAN" --version 2>/dev/null | awk '{print $NF}'), node $("$NODE" --version), $(nproc 2>/dev/null || echo '?') CPUs, $(uname -sr)"
echo "median of $RUNS timed runs after a warm-up run, timer: $(if [ $TIMER = hyperfine ]; then hyperfine --version; else echo 'bench/measure.ts loop'; fi); work dir $DIR"
if [ $TIMER = own ] && [ "${BENCH_TIMER:-}" != own ]; then echo "(hyperfine not installed: apt-get install hyperfine; timing with bench/measure.ts's own loop)"; fi
echo "ratio = cairn / reference (time or memory): lower is better"
journal_warning
echo
printf '%-44s %-14s %-30s %-7s %-18s %s\n' "measure" "cairn" "reference" "ratio" "target" "result"
for b in $(echo "$ALL" | tr ',' ' '); do
  wanted "$b" && "bench_$(echo "$b" | tr - _)"
done
echo
echo "bench summary: $PASS PASS, $FAIL FAIL, $SKIP SKIP ($INFO info lines) in $(($(now) - _start)) s; logs in $LOGS"
exit 0
