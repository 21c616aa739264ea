#!/bin/sh
# make demo: builds a sample tree holding every kind of object and shows what
# cairn makes of it. Grows with every command. Needs nothing but node; uses jq
# for pretty output when it is installed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
out="$top/demo-out"
src="$out/photos"
rm -rf "$out"
mkdir -p "$src/2019/summer" "$src/2024" "$src/.cache"

printf 'beach\n' > "$src/2019/summer/beach.jpg"
printf 'hike\n' > "$src/2019/summer/hike.jpg"
printf 'notes about 2019\n' > "$src/2019/notes.txt"
head -c 300000 /dev/urandom > "$src/2024/video.mp4"
printf 'thumbnail\n' > "$src/.cache/thumb.db"
printf '#!/bin/sh\necho sorting\n' > "$src/sort.sh"; chmod 755 "$src/sort.sh"
ln -s 2024/video.mp4 "$src/latest"
ln "$src/2019/notes.txt" "$src/notes-hardlink.txt"
mkfifo "$src/pipe"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$src/socket" 2>/dev/null || true
printf 'odd name\n' > "$src/$(printf 'caf\351 (latin-1).txt')"
printf 'x\n' > "$src/name with spaces = and \\ backslash.txt"
if [ "$(id -u)" = 0 ]; then mknod "$src/null-device" c 1 3; mknod "$src/loop-device" b 7 200; fi
touch -h -d '2019-07-14 12:00:00.123456789' "$src/2019/summer/beach.jpg"

show() { # pretty-print NDJSON when jq is there
  if command -v jq >/dev/null 2>&1; then jq -c .; else cat; fi
}
brief() { # one line per action: what, on which side, where, how it went
  if command -v jq >/dev/null 2>&1; then jq -c 'select(.op) | {op, to, path, status}'; else cat; fi
}
rbrief() { # one line per restored object
  if command -v jq >/dev/null 2>&1; then jq -c 'select(.op) | {path, volume, status}'; else cat; fi
}
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "cairn-scan: every object of the tree as one NDJSON line, header first, end record last" \
  "cairn-scan demo-out/photos"
cairn-scan "$src" | show

step "types at a glance (the readable path; raw bytes of non-UTF-8 names are in path_b64)" \
  "cairn-scan demo-out/photos | jq -r 'select(.path) | \"\\(.type)\\t\\(.path)\"'"
if command -v jq >/dev/null 2>&1; then
  cairn-scan "$src" | jq -r 'select(.path) | "\(.type)\t\(.path)\(if .path_b64 then "  (raw bytes: \(.path_b64))" else "" end)"'
else
  cairn-scan "$src" | grep -o '"path":"[^"]*","\(path_b64":"[^"]*","\)\?type":"[a-z]*"'
fi

step "hash contents, then re-scan reusing hashes of unchanged files (no file is read again)" \
  "cairn-scan --hash sha256 demo-out/photos > scan1.ndjson; cairn-scan --hash sha256 --reuse scan1.ndjson demo-out/photos > scan2.ndjson"
cairn-scan --hash sha256 "$src" > "$out/scan1.ndjson"
cairn-scan --hash sha256 --reuse "$out/scan1.ndjson" "$src" > "$out/scan2.ndjson"
grep -c '"hash"' "$out/scan1.ndjson" | sed 's/^/hashed files: /'
grep -v '"created"' "$out/scan1.ndjson" > "$out/a.tmp"; grep -v '"created"' "$out/scan2.ndjson" > "$out/b.tmp"
if cmp -s "$out/a.tmp" "$out/b.tmp"; then echo "second scan: identical entries"; else echo "second scan differs!"; exit 1; fi
rm -f "$out/a.tmp" "$out/b.tmp"

step "filters: leave out dot directories and videos; an excluded directory is never entered" \
  "cairn-scan --exclude '.*/' --exclude '*.mp4' demo-out/photos"
cairn-scan --exclude '.*/' --exclude '*.mp4' "$src" | show

step "bad input: one line, exit 2, nothing on stdout" "cairn-scan --exlude x demo-out/photos"
cairn-scan --exlude x "$src" || echo "(exit status $?)"

step "a broken stream is refused with file and line" "head -3 scan1.ndjson | cairn-scan --hash sha256 --reuse - demo-out/photos"
head -3 "$out/scan1.ndjson" | cairn-scan --hash sha256 --reuse - "$src" || echo "(exit status $?)"

backup="$out/backup"
mkdir -p "$backup"

step "mirror: diff the tree against an empty backup, plan, apply (like rsync -aH --delete)" \
  "cairn-diff demo-out/photos demo-out/backup | cairn-plan --mirror --stats | cairn-apply"
cairn-diff "$src" "$backup" | cairn-plan --mirror --stats | cairn-apply | show

step "the two sides now match: --check prints differences only, exit 0 when there are none" \
  "cairn-diff --check demo-out/photos demo-out/backup"
cairn-diff --check "$src" "$backup" && echo "(exit status 0: identical)"
if command -v rsync >/dev/null 2>&1; then
  step "rsync, asked the same question, has nothing to do either" "rsync -aniH --delete --checksum demo-out/photos/ demo-out/backup/"
  rsync -aniH --delete --checksum "$src/" "$backup/"
  echo "(rsync printed nothing)"
fi

printf 'edited\n' >> "$src/2019/notes.txt"
rm "$src/2019/summer/hike.jpg"
printf 'new\n' > "$src/2024/new.jpg"
step "after some edits: what differs" "cairn-diff --check demo-out/photos demo-out/backup"
cairn-diff --check "$src" "$backup" || echo "(exit status $?: differences)"

step "save the plan, drop its deletions with jq, replay the edited plan" \
  "cairn-diff ... | cairn-plan --mirror > plan.ndjson; jq -c 'select(.op != \"remove\")' plan.ndjson | cairn-apply"
cairn-diff "$src" "$backup" | cairn-plan --mirror > "$out/plan.ndjson"
if command -v jq >/dev/null 2>&1; then
  jq -c 'select(.op != "remove")' "$out/plan.ndjson" | cairn-apply | jq -c 'select(.op) | {op, path, status}'
  step "hike.jpg was kept on the backup: the edited plan did not remove it" "cairn-diff --check demo-out/photos demo-out/backup"
  cairn-diff --check "$src" "$backup" || echo "(exit status $?)"
else
  cairn-apply "$out/plan.ndjson" | show
fi

printf 'changed behind our back\n' > "$backup/2024/new.jpg"
step "a plan gone stale: the destination changed after the scan, so apply leaves it alone" \
  "cairn-apply plan.ndjson  # replayed after someone edited backup/2024/new.jpg"
cairn-diff "$src" "$backup" | cairn-plan --mirror > "$out/plan2.ndjson"
printf 'edited again\n' > "$backup/2024/new.jpg"
cairn-apply "$out/plan2.ndjson" | show || echo "(exit status $?: stale actions)"

# ---- two-way sync ------------------------------------------------------
laptop="$out/laptop"
stick="$out/stick"
state="$out/laptop-stick.state"
rm -rf "$laptop" "$stick" "$state"
cp -a "$src" "$laptop"
mkdir -p "$stick"

step "two-way sync, first run: the stick is empty, so everything goes to it (the state file remembers what both sides agreed on)" \
  "cairn-diff --base laptop-stick.state demo-out/laptop demo-out/stick | cairn-plan --bisync --stats | cairn-apply --state laptop-stick.state"
cairn-diff --base "$state" "$laptop" "$stick" | cairn-plan --bisync --stats | cairn-apply --state "$state" >/dev/null
echo "(done; the stick now holds $(find "$stick" -type f | wc -l) files)"

printf 'laptop edit\n' > "$laptop/2019/notes.txt"
printf 'stick edit, on another computer\n' > "$stick/2019/notes.txt"
touch -d '2030-01-01 12:00:00' "$stick/2019/notes.txt" # the newer of the two
printf 'from the stick\n' > "$stick/2024/todo.txt"
rm "$laptop/2024/new.jpg"
step "edits on both sides: a new file on the stick, a deletion on the laptop, and notes.txt changed on both" \
  "cairn-diff --base laptop-stick.state demo-out/laptop demo-out/stick | cairn-plan --bisync | cairn-apply --state laptop-stick.state"
cairn-diff --base "$state" "$laptop" "$stick" | cairn-plan --bisync | { cairn-apply --state "$state"; echo "(cairn-apply exit status $?: a conflict needs attention; both versions of notes.txt are untouched)" >&2; } | brief

step "asked again, the conflict is still there: it is never settled silently" \
  "cairn-diff --base laptop-stick.state demo-out/laptop demo-out/stick --check"
cairn-diff --check --base "$state" "$laptop" "$stick" || echo "(exit status $?)"

step "settle it: the newer version wins, the other is kept beside it on both sides" \
  "cairn-diff --base ... | cairn-plan --bisync --prefer newer | cairn-apply --state laptop-stick.state"
cairn-diff --base "$state" "$laptop" "$stick" | cairn-plan --bisync --prefer newer | cairn-apply --state "$state" | brief
ls "$laptop/2019" "$stick/2019"
step "in sync: nothing left to do" "cairn-diff --check --base laptop-stick.state demo-out/laptop demo-out/stick"
cairn-diff --check --base "$state" "$laptop" "$stick" && echo "(exit status 0: nothing changed since the last sync)"

# ---- archiving onto media ------------------------------------------------
cat="$out/catalog"
media="$out/media"
mkdir -p "$cat" "$media"
cairn-scan --hash blake3 "$src" > "$out/archive-scan.ndjson"
step "archive onto media of 200 kB: what waits, and how many media it needs" \
  "cairn-scan --hash blake3 demo-out/photos | cairn-plan --archive --catalog demo-out/catalog --medium-size 200k --format tar --stats --verbose"
cairn-plan --archive --catalog "$cat" --medium-size 200k --format tar --stats --verbose "$out/archive-scan.ndjson" 2>/dev/null

step "plan the volumes (the video is larger than a medium: it is split into parts) and pack each as a tar" \
  "cairn-plan --archive --catalog demo-out/catalog --medium-size 200k --format tar --volumes 9 | cairn-pack -o 'demo-out/media/vol-%04d.tar'"
cairn-plan --archive --catalog "$cat" --medium-size 200k --format tar --volumes 9 "$out/archive-scan.ndjson" 2>/dev/null > "$out/archive-plan.ndjson"
if command -v jq >/dev/null 2>&1; then jq -c 'select(.op) | {volume, op, path, part}' "$out/archive-plan.ndjson"; fi
cairn-pack -o "$media/vol-%04d.tar" "$out/archive-plan.ndjson"
ls -l "$media" "$cat"
step "each volume carries the catalog up to it in .cairn/, first: the newest medium alone describes them all" \
  "tar -tvf demo-out/media/vol-0002.tar"
tar -tvf "$media/vol-0002.tar"

printf 'notes about 2019, revised\n' > "$src/2019/notes.txt"
rm "$src/2024/new.jpg"
cairn-scan --hash blake3 "$src" > "$out/archive-scan2.ndjson"
step "a week later: notes.txt changed and 2024/new.jpg is gone; the next volume holds only the change and a tombstone" \
  "cairn-scan --hash blake3 demo-out/photos | cairn-plan --archive --catalog demo-out/catalog --medium-size 200k --format tar | cairn-pack -o demo-out/media/vol-%04d.tar"
cairn-plan --archive --catalog "$cat" --medium-size 200k --format tar "$out/archive-scan2.ndjson" 2>/dev/null > "$out/archive-plan2.ndjson"
show < "$out/archive-plan2.ndjson" | tail -n +2
cairn-pack -o "$media/vol-%04d.tar" "$out/archive-plan2.ndjson"
step "nothing waits now" "cairn-plan --archive ... --stats"
cairn-plan --archive --catalog "$cat" --medium-size 200k --format tar --stats "$out/archive-scan2.ndjson" 2>/dev/null

# ---- restoring from the media ---------------------------------------------
restored="$out/restored"
mkdir -p "$restored"
step "what a restore of 2019/ needs, and from which medium (notes.txt as it was at volume 2, before the revision)" \
  "cairn-restore --catalog demo-out/catalog --as-of 2 --list 2019"
cairn-restore --catalog "$cat" --as-of 2 --list 2019 | show
step "restore it from the tars: the catalog says which volume holds what; hashes are checked" \
  "cairn-restore -d demo-out/restored --catalog demo-out/catalog --media demo-out/media/vol-0001.tar ... --as-of 2 2019"
set -- ; for v in "$media"/vol-*.tar; do set -- "$@" --media "$v"; done
cairn-restore -d "$restored" --catalog "$cat" "$@" --as-of 2 2019 | rbrief
cat "$restored/2019/notes.txt"
step "the video, split over two media, comes back whole" \
  "cairn-restore -d demo-out/restored --media demo-out/media/vol-0001.tar --media demo-out/media/vol-0002.tar ... 2024/video.mp4"
cairn-restore -d "$restored" "$@" 2024/video.mp4 | rbrief
cmp "$restored/2024/video.mp4" "$src/2024/video.mp4" && echo "(2024/video.mp4: identical to the source)"

if command -v xorriso >/dev/null 2>&1; then
  isocat="$out/iso-catalog"
  mkdir -p "$isocat"
  step "the same tree onto a 1 MB ISO image: cairn-graft prints the graft points, xorriso builds the image" \
    "cairn-plan --archive --catalog demo-out/iso-catalog --medium-size 1M | cairn-graft | xorriso -as mkisofs -R -J -joliet-long -D -iso-level 3 -graft-points -path-list - -o demo-out/media/disc-0001.iso"
  cairn-plan --archive --catalog "$isocat" --medium-size 1M "$out/archive-scan2.ndjson" 2>/dev/null | cairn-graft > "$out/graft.list"
  cat "$out/graft.list"
  xorriso -as mkisofs -R -J -joliet-long -D -iso-level 3 -graft-points -path-list "$out/graft.list" -o "$media/disc-0001.iso" 2>/dev/null
  ls -l "$media/disc-0001.iso"
fi

# ---- object storage ---------------------------------------------------------
# A real S3 server (s3rver from npm) on loopback, in a directory of its own; stopped on exit.
s3dir="$out/s3-server"
mkdir -p "$s3dir"
mkfifo "$s3dir/hold"
node --openssl-legacy-provider "$top/dist/scripts/s3-server.js" "$s3dir/data" photos-backup < "$s3dir/hold" > "$s3dir/endpoint" &
s3pid=$!
exec 9> "$s3dir/hold"   # the server serves until this descriptor closes
trap 'exec 9>&-; wait $s3pid 2>/dev/null || true' EXIT
while [ ! -s "$s3dir/endpoint" ]; do sleep 0.1; done
endpoint=$(sed 's/.*"endpoint":"\([^"]*\)".*/\1/' "$s3dir/endpoint")
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL="$endpoint"
step "object storage: mirror the tree to s3://photos-backup/laptop (an S3 server on loopback; AWS_ENDPOINT_URL points there). Keys are UTF-8: the latin-1 name is left out" \
  "cairn-diff --exclude '*latin-1*' demo-out/photos s3://photos-backup/laptop | cairn-plan --mirror | cairn-apply -j 16"
cairn-diff --exclude '*latin-1*' "$src" s3://photos-backup/laptop 2>/dev/null | cairn-plan --mirror | cairn-apply -j 16 2>/dev/null | brief
step "the bucket as cairn-scan reads it: times, modes and sha256 from the objects' metadata (no fifos, sockets or devices in a bucket)" \
  "cairn-scan s3://photos-backup/laptop"
cairn-scan s3://photos-backup/laptop | show
step "validate: nothing differs between the tree and the bucket, by content too" \
  "cairn-diff --check --checksum=all --exclude '*latin-1*' demo-out/photos s3://photos-backup/laptop"
cairn-diff --check --checksum=all --exclude '*latin-1*' "$src" s3://photos-backup/laptop 2>/dev/null && echo "(exit 0: the bucket matches)"
printf 'notes about 2019, third revision\n' > "$src/2019/notes.txt"
step "a change, and the check says where" "cairn-diff --check --exclude '*latin-1*' demo-out/photos s3://photos-backup/laptop"
cairn-diff --check --exclude '*latin-1*' "$src" s3://photos-backup/laptop 2>/dev/null || echo "(exit $?: differences)"
step "restore one directory from the bucket" "cairn-restore --from s3://photos-backup/laptop -d demo-out/from-s3 --glob '2019/**'"
mkdir -p "$out/from-s3"
cairn-restore --from s3://photos-backup/laptop -d "$out/from-s3" --glob '2019/**' | rbrief
exec 9>&-
wait $s3pid 2>/dev/null || true
trap - EXIT

printf '\nThe sample tree, the backup, the two-way pair and its state, the catalog, media and a restore, scans and plans are in demo-out/. More: man -l man/cairn.7\n'
