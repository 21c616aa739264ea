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
#   BENCH_ONLY=scan,hash,reuse,rss,startup,reader
#                       run a subset
#   BENCH_TIMER=hyperfine|own
#                       default: hyperfine when installed, else bench/measure.ts's loop
#   BENCH_RSS=gnu-time|proc
#                       default: GNU /usr/bin/time when it works, else polling /proc
#   BENCH_RSS_RUNS=3    runs per peak-RSS figure (median; a 1M scan takes several seconds)
#
# Disk: about 2.5 GB under BENCH_DIR (1 GiB of it the hash input), 2.1M inodes.
set -u

DIR=${BENCH_DIR:-/tmp/cairn-bench}
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
cd "$(dirname "$0")/.." || exit 2
TOP=$(pwd)
RUNS=${BENCH_RUNS:-5}
RSS_RUNS=${BENCH_RSS_RUNS:-3}
ONLY=${BENCH_ONLY:-scan,hash,reuse,rss,startup,reader}
NODE=$(command -v "${NODE:-node}") || { echo "bench: node not found" >&2; exit 2; }
SCAN=$TOP/bin/cairn-scan
GEN=$TOP/dist/bench/gen.js
MEASURE=$TOP/dist/bench/measure.js
READER=$TOP/dist/bench/ndjson-reader.js
WRITER=$TOP/dist/bench/ndjson-writer.js
LOGS=$DIR/logs
# find's listing, the reference walk for scans: type, size, mtime, mode, path of everything.
FIND_FMT='%y %s %T@ %m %p\n'

for n in "BENCH_RUNS=$RUNS" "BENCH_RSS_RUNS=$RSS_RUNS"; do
  case ${n#*=} in '' | *[!0-9]* | 0) echo "bench: ${n%%=*} must be a positive integer, got '${n#*=}'" >&2; exit 2 ;; esac
done
for b in $(echo "$ONLY" | tr ',' ' '); do
  case $b in scan | hash | reuse | rss | startup | reader) ;;
    *) echo "bench: BENCH_ONLY: unknown benchmark '$b' (known: scan,hash,reuse,rss,startup,reader)" >&2; exit 2 ;;
  esac
done
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
fmt_rate() { awk -v n="$1" -v t="$2" 'BEGIN { r = n / t; if (r >= 1e6) printf "%.2fM lines/s", r / 1e6; else printf "%.0fk lines/s", r / 1e3 }'; }
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
  echo "== hash: cairn-scan --hash sha256 over four 256 MiB files, warm cache"
  B=$DIR/big4
  if ! ensure big4 "gen-v1 big 4x256MiB" big "$B" 4 256; then set_res hash_cairn "error could not generate the files"; else
    FILES="$(q "$B/f1.bin") $(q "$B/f2.bin") $(q "$B/f3.bin") $(q "$B/f4.bin")"
    set -- "hash_cairn=$(q "$SCAN") --hash sha256 $(q "$B")"
    if have openssl; then set -- "$@" "hash_openssl=openssl dgst -sha256 $FILES"; else set_res hash_openssl "skip openssl not installed"; fi
    if have sha256sum; then set -- "$@" "hash_sha256sum=sha256sum $FILES"; else set_res hash_sha256sum "skip sha256sum not installed"; fi
    if have b3sum; then set -- "$@" "hash_b3sum=b3sum $FILES"; else set_res hash_b3sum "skip b3sum not installed (apt-get install b3sum)"; fi
    group hash "$RUNS" "$@"
  fi
  judge "sha256 4x256 MiB vs openssl dgst -sha256" hash_cairn "openssl" hash_openssl 1.25
  judge "sha256 4x256 MiB vs sha256sum" hash_cairn "sha256sum" hash_sha256sum info
  judge "sha256 4x256 MiB vs b3sum (BLAKE3)" hash_cairn "b3sum" hash_b3sum info
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

# ---- run ----------------------------------------------------------------

_start=$(now)
echo "cairn bench: $(date -u '+%Y-%m-%d %H:%M UTC'), cairn $("$SCAN" --version 2>/dev/null | awk '{print $NF}'), node $("$NODE" --version), $(nproc 2>/dev/null || echo '?') CPUs, $(uname -sr)"
echo "median of $RUNS timed runs after a warm-up run, timer: $(if [ $TIMER = hyperfine ]; then hyperfine --version; else echo 'bench/measure.ts loop'; fi); work dir $DIR"
if [ $TIMER = own ] && [ "${BENCH_TIMER:-}" != own ]; then echo "(hyperfine not installed: apt-get install hyperfine; timing with bench/measure.ts's own loop)"; fi
echo "ratio = cairn / reference (time or memory): lower is better"
echo
printf '%-44s %-14s %-30s %-7s %-18s %s\n' "measure" "cairn" "reference" "ratio" "target" "result"
for b in scan hash reuse rss startup reader; do
  wanted $b && "bench_$b"
done
echo
echo "bench summary: $PASS PASS, $FAIL FAIL, $SKIP SKIP ($INFO info lines) in $(($(now) - _start)) s; logs in $LOGS"
exit 0
