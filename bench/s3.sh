# The object-storage sections of `make bench` (sourced by bench/run.sh, which
# defines the helpers used here: ensure, group_alt, judge, note, ...).
#
# Both clients talk to the same real S3 server (s3rver, a Node process on
# loopback, started here) in the same run: cairn's pipeline against rclone
# sync, 16 transfers/checkers each. On a machine of two cores the server
# itself takes most of the CPU, so the ratio says how much the client adds.

S3TREE=$DIR/s3tree
S3DATA=$DIR/s3data
S3RUNS=${BENCH_S3_RUNS:-3}
S3_EP=

# s3_start: the server, once for both sections; stopped when the bench ends.
s3_start() {
  [ -n "$S3_EP" ] && return 0
  rm -rf "$S3DATA" "$DIR/s3hold" "$DIR/s3ep" && mkdir -p "$S3DATA" && mkfifo "$DIR/s3hold" || return 1
  "$NODE" --openssl-legacy-provider "$TOP/dist/scripts/s3-server.js" "$S3DATA" bench <"$DIR/s3hold" >"$DIR/s3ep" 2>"$LOGS/s3-server.err" &
  exec 8>"$DIR/s3hold" # the server serves until this descriptor closes (at exit)
  _t=0
  while [ ! -s "$DIR/s3ep" ] && [ $_t -lt 100 ]; do sleep 0.1; _t=$((_t + 1)); done
  S3_EP=$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' "$DIR/s3ep")
  [ -n "$S3_EP" ] || return 1
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$S3_EP"
  # rclone from the environment only; AWS_CA_BUNDLE makes rclone 1.60 refuse to start.
  export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_T_TYPE=s3 RCLONE_CONFIG_T_PROVIDER=Other RCLONE_CONFIG_T_ENDPOINT="$S3_EP" \
    RCLONE_CONFIG_T_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_T_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_T_REGION=us-east-1
  note "S3 server (s3rver) at $S3_EP, data in $S3DATA; median of $S3RUNS runs each (BENCH_S3_RUNS)"
}

s3_cairn() { printf 'sh -c %s %s %s %s %s' "$(q '"$0" -j 16 "$1" s3://bench/cairn | "$2" --mirror | "$3" -j 16 >/dev/null')" "$(q "$DIFF")" "$(q "$S3TREE")" "$(q "$PLAN")" "$(q "$TOP/bin/cairn-apply")"; }
s3_rclone() { printf 'env -u AWS_CA_BUNDLE rclone sync --transfers 16 --checkers 16 %s t:bench/rclone' "$(q "$S3TREE")"; }

# s3_ready: the tree, the server, and (unless $1 is "empty") both prefixes mirrored and checked.
s3_ready() {
  ensure s3tree "gen-v1 files 100x100x10" files "$S3TREE" 100 100 10 || { S3_WHY="could not generate the tree"; return 1; }
  s3_start || { S3_WHY="could not start the S3 server: $(tail -n 1 "$LOGS/s3-server.err" 2>/dev/null)"; return 1; }
  [ "${1:-}" = empty ] && return 0
  eval "$(s3_cairn)" 2>"$LOGS/s3-cairn.err" || { S3_WHY="cairn's mirror failed: $(tail -n 1 "$LOGS/s3-cairn.err")"; return 1; }
  "$DIFF" --check --checksum=all -j 16 "$S3TREE" s3://bench/cairn >"$LOGS/s3-check.out" 2>&1 || { S3_WHY="cairn-diff --check after cairn's mirror: $(head -n 1 "$LOGS/s3-check.out")"; return 1; }
  eval "$(s3_rclone)" 2>"$LOGS/s3-rclone.err" || { S3_WHY="rclone sync failed: $(tail -n 1 "$LOGS/s3-rclone.err")"; return 1; }
  env -u AWS_CA_BUNDLE rclone check "$S3TREE" t:bench/cairn >"$LOGS/s3-rclone-check.out" 2>&1 || { S3_WHY="rclone check of cairn's mirror: $(tail -n 1 "$LOGS/s3-rclone-check.out")"; return 1; }
}

bench_s3_mirror() {
  echo "== s3-mirror: mirror of 10k files (~100 MB) to an S3 server on loopback, -j 16, vs rclone sync --transfers 16 --checkers 16 into an empty prefix"
  if ! have rclone; then set_res s3m_cairn "skip rclone not installed"
  elif ! s3_ready; then set_res s3m_cairn "error $S3_WHY"
  else
    note "checked: cairn-diff --check --checksum=all and rclone check find cairn's mirror equal to the tree"
    # Each timed run starts from an empty prefix (the server keeps objects as files: removed untimed).
    group_alt s3mirror "$S3RUNS" "rm -rf $(q "$S3DATA/bench/cairn") $(q "$S3DATA/bench/rclone")" \
      "s3m_cairn=$(s3_cairn)" "s3m_rclone=$(s3_rclone)"
  fi
  judge "mirror 10k files to S3 vs rclone sync" s3m_cairn "rclone sync" s3m_rclone 1.2
}

bench_s3_noop() {
  echo "== s3-noop: the same mirror again, nothing to do (every object's metadata read), vs rclone's no-op sync"
  if ! have rclone; then set_res s3n_cairn "skip rclone not installed"
  elif ! s3_ready; then set_res s3n_cairn "error $S3_WHY"
  else
    group_alt s3noop "$S3RUNS" "" "s3n_cairn=$(s3_cairn)" "s3n_rclone=$(s3_rclone)"
  fi
  judge "no-op mirror to S3 vs rclone sync" s3n_cairn "rclone sync" s3n_rclone 1.5
}
