# The archive sections of `make bench` (sourced by bench/run.sh, which defines
# the helpers used here: ensure, group_alt, judge, row, note, rss, ...).

PACK=$TOP/bin/cairn-pack
# The algorithm the packed volumes are planned with (cairn-pack checks every
# file against it as it reads): BLAKE3 unless BENCH_ARCHIVE_HASH says otherwise.
ARCHIVE_HASH=${BENCH_ARCHIVE_HASH:-blake3}

# archive_plan_for SRC_DIR WORK [ALG]: a scan of SRC_DIR hashed with ALG (default
# ARCHIVE_HASH) and the plan of one tar volume holding all of it against an empty
# catalog, in WORK (untimed).
archive_plan_for() {
  _src=$1 _w=$2
  fresh "$_w" && mkdir -p "$_w/cat" &&
    "$SCAN" --hash "${3:-$ARCHIVE_HASH}" "$_src" >"$_w/scan.ndjson" 2>"$_w/scan.err" &&
    "$PLAN" --archive --catalog "$_w/cat" --medium-size 1T --format tar "$_w/scan.ndjson" >"$_w/plan.ndjson" 2>"$_w/plan.err"
}

# pack_section KEY SRC_DIR WHAT TARGET [ALG]: cairn-pack of the volume (planned from a
# scan hashed with ALG) vs tar -cf of the tree, both into a file of the same directory
# (cairn: stdout redirected, as tar writes its file: neither syncs); the catalog is
# emptied untimed before each run.
pack_section() {
  _pk=$1 _s=$2 _what=$3 _target=$4
  _w=$DIR/$_pk
  if ! archive_plan_for "$_s" "$_w" "${5:-$ARCHIVE_HASH}"; then
    set_res "${_pk}_cairn" "error could not scan and plan: $(cat "$_w/scan.err" "$_w/plan.err" 2>/dev/null | tail -n 1)"
  else
    # A first run, checked: GNU tar lists every object of the scan, and the catalog gets its volume.
    "$PACK" "$_w/plan.ndjson" >"$_w/v.tar" 2>"$LOGS/$_pk.err"
    _n=$(tar -tf "$_w/v.tar" 2>/dev/null | grep -vc '^\.cairn/')
    _want=$(grep -c '"path"' "$_w/scan.ndjson")
    if [ "$_n" != "$_want" ] || [ ! -f "$_w/cat/vol-0001.ndjson" ]; then
      set_res "${_pk}_cairn" "error the checked run gave $_n members for $_want entries (or no descriptor): see $LOGS/$_pk.err"
      loud "$_pk: cairn-pack's tar holds $_n objects, the scan $_want"
    else
      note "the volume's tar: $(wc -c <"$_w/v.tar" | tr -d ' ') bytes ($_n objects); tar -cf's: $(tar -cf - -C "$_s" . | wc -c | tr -d ' ') bytes"
      group_alt "$_pk" "$RUNS" "rm -f $(q "$_w/cat/vol-0001.ndjson") $(q "$_w/v.tar") $(q "$_w/ref.tar")" \
        "${_pk}_cairn=sh -c $(q '"$0" "$1" >"$2"') $(q "$PACK") $(q "$_w/plan.ndjson") $(q "$_w/v.tar")" \
        "${_pk}_tar=tar -cf $(q "$_w/ref.tar") -C $(q "$_s") ."
    fi
  fi
  judge "$_what vs tar -cf" "${_pk}_cairn" "tar -cf" "${_pk}_tar" "$_target"
  rm -f -- "$_w/v.tar" "$_w/ref.tar"
}

bench_pack_100k() {
  echo "== pack-100k: cairn-pack of one tar volume holding the 100k-file tree (planned from a scan hashed with $ARCHIVE_HASH) vs tar -cf, warm cache"
  if ensure_tree; then pack_section pack100k "$TREE" "pack 100k files" 1.5
  else set_res pack100k_cairn "error could not generate the tree"; judge "pack 100k files vs tar -cf" pack100k_cairn "tar -cf" pack100k_tar 1.5; fi
}

bench_pack_big() {
  echo "== pack-big: cairn-pack of one tar volume holding four 256 MiB files (planned from a scan hashed with $ARCHIVE_HASH; INFO: with sha256) vs tar -cf, warm cache"
  if ensure big4 "gen-v1 big 4x256MiB" big "$DIR/big4" 4 256; then
    pack_section packbig "$DIR/big4" "pack 4x256 MiB" 1.3
    # OpenSSL's sha256 (about 1.4 GB/s here) is slower than tar's copy: the hash, not the I/O, sets this one.
    [ "$ARCHIVE_HASH" = sha256 ] || pack_section packbig256 "$DIR/big4" "pack 4x256 MiB, sha256 plan" info sha256
  else set_res packbig_cairn "error could not generate the files"; judge "pack 4x256 MiB vs tar -cf" packbig_cairn "tar -cf" packbig_tar 1.3; fi
}

bench_archive_plan() {
  echo "== archive-plan: cairn-plan --archive of a 1M-entry source against a catalog of 10 volumes holding 1M entries"
  echo "   (10 copies of the 100k scan; 1% of the files changed, 0.5% gone, 0.5% new)"
  _w=$DIR/archplan
  _p=
  if ! ensure_tree; then set_res ap_cairn "error could not generate the tree"
  elif ! "$SCAN" --hash sha256 "$TREE" >"$DIR/tree100k.hashed.ndjson" 2>"$LOGS/archive-plan-scan.err" ||
    ! "$NODE" "$GEN" catalog "$DIR/tree100k.hashed.ndjson" "$_w" 10 >"$LOGS/archive-plan-gen.txt" 2>&1; then
    set_res ap_cairn "error making the catalog failed: $(cat "$LOGS/archive-plan-scan.err" "$LOGS/archive-plan-gen.txt" | tail -n 1)"
  else
    set -- $(cat "$_w/expect.txt")
    note "catalog: $2 entries in 10 volumes; the source changes $4 files and removes $6"
    _p="$(q "$PLAN") --archive --catalog $(q "$_w/cat") --medium-size 1T --format tar $(q "$_w/source.ndjson")"
    sh -c "$_p" >"$LOGS/archive-plan.plan" 2>"$LOGS/archive-plan.err"
    _files=$(grep '"op":"store"' "$LOGS/archive-plan.plan" | grep -c '"type":"file"')
    _tombs=$(grep -c '"op":"tombstone"' "$LOGS/archive-plan.plan")
    if [ "$_files" = "$4" ] && [ "$_tombs" = "$6" ]; then
      row "archive plan: stores what changed" "$_files files" "-" "-" "$4 files, $6 tombstones" PASS
      rss ap_rss "$RSS_RUNS" "$_p"
      group_alt archive_plan "$RUNS" "" "ap_cairn=$_p"
    else
      row "archive plan: stores what changed" "$_files files, $_tombs tombstones" "-" "-" "$4 files, $6 tombstones" FAIL
      set_res ap_cairn "error the plan stores $_files files and $_tombs tombstones; see $LOGS/archive-plan.plan"
    fi
  fi
  judge_time "archive plan, 1M entries x 10 volumes" ap_cairn 10
  _c=$(res ap_rss)
  if is_ok "$_c"; then
    _mb=$(awk -v k="$(val "$_c")" 'BEGIN { print k * 1024 / 1e6 }')
    if le "$_mb" 500; then _result=PASS; else _result=FAIL; fi
    row "peak RSS, archive plan 1M x 10 volumes" "$(fmt_mb "$(val "$_c")")" "-" "-" "< 500 MB" "$_result"
  elif [ -n "$_p" ]; then
    row "peak RSS, archive plan 1M x 10 volumes" "-" "-" "-" "< 500 MB" FAIL
    note "cairn: $(why "$_c")"
  fi
}

RESTORE=$TOP/bin/cairn-restore

bench_restore_100k() {
  echo "== restore-100k: cairn-restore of the 100k-file volume tar made by cairn-pack vs tar -xf, into a new directory, warm cache"
  echo "   (the directories of the previous run are removed and synced before each run, untimed: deleting 100k files leaves the file system work to do)"
  _w=$DIR/pack100k
  if ! ensure_tree; then set_res rs_cairn "error could not generate the tree"
  elif ! archive_plan_for "$TREE" "$_w" || ! "$PACK" "$_w/plan.ndjson" >"$_w/v.tar" 2>"$LOGS/restore-100k.err"; then
    set_res rs_cairn "error could not make the volume: $(tail -n 1 "$LOGS/restore-100k.err")"
  else
    fresh "$_w/out" && "$RESTORE" -d "$_w/out" --tar "$_w/v.tar" >"$LOGS/restore-100k.results" 2>>"$LOGS/restore-100k.err"
    _rc=$?
    _done=$(grep -c '"status":"done"' "$LOGS/restore-100k.results")
    _want=$(grep -c '"path"' "$_w/scan.ndjson")
    if [ "$_rc" != 0 ] || [ "$_done" != "$_want" ] || ! diff -r "$TREE" "$_w/out" >"$LOGS/restore-100k.diff" 2>&1; then
      set_res rs_cairn "error the checked run restored $_done of $_want objects (exit $_rc); see $LOGS/restore-100k.*"
      loud "restore-100k: cairn-restore did not give back the tree"
    else
      group_alt restore_100k "$RUNS" "sh -c $(q 'rm -rf "$1/out" "$1/ref" && mkdir "$1/out" "$1/ref" && sync') sh $(q "$_w")" \
        "rs_cairn=sh -c $(q '"$0" -d "$1" --tar "$2" >/dev/null') $(q "$RESTORE") $(q "$_w/out") $(q "$_w/v.tar")" \
        "rs_tar=tar -xf $(q "$_w/v.tar") -C $(q "$_w/ref")"
      # The same into tmpfs: no disk, so what the two programs themselves cost (the disk's write-back swings tar -xf from 2 s to 20 s).
      _shm=$(mktemp -d /dev/shm/cairn-bench-restore.XXXXXX 2>/dev/null) || _shm=
      if [ -n "$_shm" ]; then
        group_alt restore_100k_shm "$RUNS" "sh -c $(q 'rm -rf "$1/out" "$1/ref" && mkdir "$1/out" "$1/ref"') sh $(q "$_shm")" \
          "rs_shm_cairn=sh -c $(q '"$0" -d "$1" --tar "$2" >/dev/null') $(q "$RESTORE") $(q "$_shm/out") $(q "$_w/v.tar")" \
          "rs_shm_tar=tar -xf $(q "$_w/v.tar") -C $(q "$_shm/ref")"
        rm -rf -- "$_shm"
      else set_res rs_shm_cairn "skip no writable /dev/shm"; fi
    fi
    rm -rf -- "$_w/out" "$_w/ref" "$_w/v.tar"
  fi
  judge "restore 100k files vs tar -xf" rs_cairn "tar -xf" rs_tar 1.5
  judge "restore 100k files into tmpfs vs tar -xf" rs_shm_cairn "tar -xf" rs_shm_tar info
}

bench_restore_one() {
  echo "== restore-one: one file from a catalog of 20 volumes (the 100k tree laid out as 20 directory volumes), media from a mounter"
  _w=$DIR/restore20
  _m=$_w/mounter.sh
  if ! ensure_tree; then set_res ro_cairn "error could not generate the tree"
  else
    if [ "$(cat "$_w.ok" 2>/dev/null)" != "v1" ]; then
      rm -rf "$_w" "$_w.ok" && mkdir -p "$_w/cat" "$_w/media" &&
        "$SCAN" --hash sha256 "$TREE" >"$_w/scan.ndjson" &&
        _size=$(awk '/"type":"file"/ { n++ } END { print n }' "$_w/scan.ndjson") &&
        "$PLAN" --archive --catalog "$_w/cat" --format dir --medium-size 25M --sort alpha --volumes 20 "$_w/scan.ndjson" >"$_w/plan.ndjson" 2>"$LOGS/restore-one.err" &&
        for _v in $(seq 1 20); do mkdir -p "$_w/media/$_v"; done &&
        "$TOP/bin/cairn-apply" --dst "$_w/media/%d" "$_w/plan.ndjson" >/dev/null 2>>"$LOGS/restore-one.err" &&
        echo v1 >"$_w.ok"
      note "laid out $(ls "$_w/cat" | wc -l) volumes once (later runs reuse them)"
    fi
    cat >"$_m" <<'MOUNTER'
#!/bin/sh
# The bench's mounter: logs the volume asked for, prints where it is.
v=$(head -c 200 "$1" | sed -n 's/.*"volume":\([0-9]*\).*/\1/p')
echo "$v" >>"$(dirname "$0")/asked"
[ "$v" = 0 ] || echo "$(dirname "$0")/media/$v"
MOUNTER
    chmod +x "$_m"
    # The file to restore: the last file of the last volume.
    _p=$(grep '"type":"file"' "$_w/cat/vol-0020.ndjson" 2>/dev/null | tail -n 1 | sed 's/^{"path":"\([^"]*\)".*/\1/')
    if [ ! -f "$_w.ok" ] || [ -z "$_p" ]; then set_res ro_cairn "error could not lay out the volumes: $(tail -n 1 "$LOGS/restore-one.err")"
    else
      rm -rf "$_w/out" "$_w/asked" && mkdir "$_w/out"
      "$RESTORE" -d "$_w/out" --catalog "$_w/cat" --mounter "$_m" "$_p" >"$LOGS/restore-one.results" 2>>"$LOGS/restore-one.err"
      _asked=$(tr '\n' ' ' <"$_w/asked")
      if cmp -s "$TREE/$_p" "$_w/out/$_p" && [ "$_asked" = "20 0 " ]; then
        row "restore one file: media asked for" "20 (and 0)" "-" "-" "exactly one" PASS
        group_alt restore_one "$RUNS" "sh -c $(q 'rm -rf "$1/out" "$1/asked" && mkdir "$1/out"') sh $(q "$_w")" \
          "ro_cairn=sh -c $(q '"$0" -d "$1" --catalog "$2" --mounter "$3" "$4" >/dev/null') $(q "$RESTORE") $(q "$_w/out") $(q "$_w/cat") $(q "$_m") $(q "$_p")"
      else
        row "restore one file: media asked for" "${_asked:-none}" "-" "-" "exactly one" FAIL
        set_res ro_cairn "error the file was not restored from one medium; see $LOGS/restore-one.*"
      fi
    fi
  fi
  judge_time "restore one file of 20 volumes" ro_cairn 2
}
