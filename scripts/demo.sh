#!/usr/bin/env bash
# The main job: from a fresh Debian 12 machine to containers run by berth. Run as root.
#
#   sudo scripts/demo.sh
#
# 1. installs the dependencies and builds berth (scripts/install-deps.sh), then installs it
#    (scripts/install.sh: `berth` on the PATH, shell completion, man pages),
# 2. prepares the host's cgroups for crun if needed (scripts/prepare-host.sh),
# 3. builds a busybox OCI bundle in a temp dir and runs it in the foreground (crun),
# 4. runs a second one detached, routed to runc by a config rule: create, start, state, list,
#    exec, kill, delete,
# 5. makes a busybox OCI image (umoci), imports it into berth's cache on a ZFS pool (zfs-fuse, a
#    pool on a file in the temp dir; the dir driver where zfs-fuse cannot run), runs two
#    containers cloned from it (timed), snapshots one, changes it and rolls it back,
# 6. runs berth doctor, and scrapes berth serve's /metrics once,
# 7. removes everything it made (containers, image, pool, bundles, berth's state root; a
#    zfs-fuse it started is stopped, one that was running is left alone).
#
# Every step is checked; the script exits non-zero as soon as one fails.
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

step() { printf '\n==> %s\n' "$*"; }
# show CMD ARG...: prints the command line (quoted as a shell would need it), then runs it.
show() {
  local arg line='$'
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./=:,@+%-]+$ ]]; then line+=" $arg"; else line+=" '${arg//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "$line"
  "$@"
}
die() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
on_error() { printf 'demo: FAILED (exit %s) at line %s: %s\n' "$1" "$2" "$3" >&2; }
trap 'on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR

[ "$(id -u)" -eq 0 ] || die "must run as root (containers need it); try: sudo $0"

step "Installing dependencies and building berth"
bash scripts/install-deps.sh

step "Installing berth: on the PATH, shell completion (bash, zsh, fish), man pages"
bash scripts/install.sh

step "Preparing the host"
bash scripts/prepare-host.sh

WORK="$(mktemp -d /tmp/berth-demo.XXXXXX)"
ROOT="$WORK/state"            # berth --root: container records and the backends' state
CONFIG="$WORK/berth.toml"

# berth as the demo uses it: its own state root and config, never the host's /run/berth.
berth() { "$REPO/bin/berth" --root "$ROOT" --config "$CONFIG" "$@"; }

POOL=""          # the demo's zpool, when it made one
ZFS_PID=""       # the zfs-fuse it started, if none was running
SERVE_PID=""

cleanup() {
  local rc=$? ids id
  trap - ERR
  # Every removal is tried, each failure counted in rc: no step may end the cleanup early.
  set +e
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; fi
  if [ -d "$ROOT" ]; then
    # Whatever a failed step left running is removed before its files are.
    if ids="$(berth list --quiet)"; then
      for id in $ids; do
        berth delete --force "$id" || { echo "demo: could not remove container $id" >&2; rc=1; }
      done
    else
      echo "demo: could not list containers in $ROOT" >&2
      rc=1
    fi
  fi
  if [ -d "$ROOT" ] && [ -f "$CONFIG" ]; then
    for id in $(berth image ls --quiet 2>/dev/null); do
      berth image rm "$id" >/dev/null || { echo "demo: could not remove image $id" >&2; rc=1; }
    done
  fi
  if [ -n "$POOL" ]; then
    # zfs-fuse answers "pool is busy" for a moment after the last unmount.
    for _ in $(seq 50); do zpool destroy -f "$POOL" 2>/dev/null && POOL="" && break; sleep 0.2; done
    [ -z "$POOL" ] || { echo "demo: could not destroy pool $POOL: $(zpool destroy -f "$POOL" 2>&1)" >&2; rc=1; }
  fi
  # zfs-fuse exits non-zero on SIGTERM: it stopped, which is all that is asked of it here.
  if [ -n "$ZFS_PID" ]; then kill "$ZFS_PID" && wait "$ZFS_PID" 2>/dev/null; fi
  rm -rf "$WORK"
  [ "$rc" -eq 0 ] && printf '\ndemo: all steps passed; %s removed\n' "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# make_bundle DIR HOSTNAME ARG... : a busybox rootfs plus `berth spec`'s config.json, edited.
make_bundle() {
  local dir="$1" host="$2"
  shift 2
  mkdir -p "$dir"/rootfs/{bin,dev,etc,proc,sys,tmp}
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  # Inside a chroot, so the applet links point at /bin/busybox as the container sees it.
  chroot "$dir/rootfs" /bin/busybox --install -s /bin
  berth spec --bundle "$dir"
  jq --arg host "$host" '.process.terminal = false | .process.args = $ARGS.positional | .hostname = $host' \
    --args -- "$@" <"$dir/config.json" >"$dir/config.json.new"
  mv "$dir/config.json.new" "$dir/config.json"
}

# status_of ID: the container's status from `berth state`.
status_of() { berth state "$1" | jq -r .status; }

expect_status() {
  local got
  got="$(status_of "$1")"
  [ "$got" = "$2" ] || die "container $1 is $got, expected $2"
  echo "status of $1: $got"
}

step "A config file: crun by default, runc for ids that match demo-runc-*"
cat >"$CONFIG" <<'EOF'
default_runtime = "crun"

[[routes]]
id_glob = "demo-runc-*"
runtime = "runc"
EOF
cat "$CONFIG"

step "berth and its backends"
berth version

step "Building two busybox bundles in $WORK"
# shellcheck disable=SC2016 # $(hostname) is for the container's shell
make_bundle "$WORK/hello" berth-hello \
  sh -c 'echo Hello from berth in $(hostname); cat /etc/os-release 2>/dev/null || uname -a'
make_bundle "$WORK/web" berth-web \
  sh -c 'trap "echo web: got TERM, exiting; exit 0" TERM; echo web: up; while true; do sleep 1; done'
echo "process.args of the hello bundle: $(jq -c .process.args "$WORK/hello/config.json")"

step "Foreground: berth run (routed to crun, the default); berth exits with the container's code"
rc=0
show berth run --bundle "$WORK/hello" demo-hello || rc=$?
echo "exit code: $rc"
[ "$rc" -eq 0 ] || die "berth run exited with $rc"
left="$(berth list --quiet)"
[ -z "$left" ] || die "the foreground container was not removed after it exited: $left"

step "Detached: create, then start (routed to runc by the config rule)"
show berth create --bundle "$WORK/web" demo-runc-web
expect_status demo-runc-web created
show berth start demo-runc-web
expect_status demo-runc-web running

step "berth state (OCI state JSON)"
show berth state demo-runc-web

step "berth list (the BACKEND column shows the routing)"
show berth list
backend="$(berth list --format json | jq -r '.[] | select(.id == "demo-runc-web") | .backend')"
[ "$backend" = runc ] || die "demo-runc-web went to \"$backend\", expected runc"

step "berth exec: a second process in the running container"
show berth exec demo-runc-web ps
rc=0
show berth exec demo-runc-web sh -c 'exit 3' || rc=$?
echo "exit code: $rc (the process's own code, passed through)"
[ "$rc" -eq 3 ] || die "berth exec exited with $rc, expected 3"

step "berth kill (TERM by default), then wait for the container to stop"
show berth kill demo-runc-web
for _ in $(seq 100); do
  [ "$(status_of demo-runc-web)" = stopped ] && break
  sleep 0.1
done
expect_status demo-runc-web stopped

step "berth delete"
show berth delete demo-runc-web
left="$(berth list --quiet)"
[ -z "$left" ] || die "containers are left after delete: $left"
echo "no containers left"

# ms CMD...: runs it, then prints how long it took.
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@"
  t1=$(date +%s%N)
  echo "took $(((t1 - t0) / 1000000)) ms"
}

step "Images: storage for templates and container volumes"
if [ -e /dev/fuse ] && command -v zfs-fuse >/dev/null; then
  if ! pgrep -x zfs-fuse >/dev/null; then
    zfs-fuse --no-daemon --no-kstat-mount >"$WORK/zfs-fuse.log" 2>&1 &
    ZFS_PID=$!
    for _ in $(seq 100); do zpool list >/dev/null 2>&1 && break; sleep 0.1; done
    zpool list >/dev/null || die "zfs-fuse did not start: $(cat "$WORK/zfs-fuse.log")"
  fi
  POOL="berth-demo-$$"
  truncate -s 1G "$WORK/pool.img"
  mkdir -p "$WORK/pool"
  show zpool create -m "$WORK/pool" "$POOL" "$WORK/pool.img"
  show zfs create "$POOL/berth"
  printf '\n[storage]\ndriver = "zfs"\ndataset = "%s"\nstate_dir = "%s"\n' "$POOL/berth" "$WORK/cache" >>"$CONFIG"
  echo "a ZFS pool on a 1 GB file: every container gets a clone of the image's template"
else
  printf '\n[storage]\ndriver = "dir"\ndir = "%s"\nstate_dir = "%s"\n' "$WORK/storage" "$WORK/cache" >>"$CONFIG"
  echo "zfs-fuse cannot run here (no /dev/fuse): the dir driver, a full copy per container"
fi
sed -n '/^\[storage\]/,$p' "$CONFIG"

step "An OCI image of busybox (umoci), imported once into the cache"
umoci init --layout "$WORK/layout"
umoci new --image "$WORK/layout:1"
umoci unpack --image "$WORK/layout:1" "$WORK/unpacked" >/dev/null
mkdir -p "$WORK/unpacked/rootfs"/{bin,etc,tmp}
cp /bin/busybox "$WORK/unpacked/rootfs/bin/busybox"
chroot "$WORK/unpacked/rootfs" /bin/busybox --install -s /bin
umoci repack --image "$WORK/layout:1" "$WORK/unpacked"
umoci config --image "$WORK/layout:1" --config.cmd sh --config.cmd -c --config.cmd 'echo hello from the image in $(hostname)'
show berth image import "$WORK/layout:1" --name demo/busybox:1
show berth image ls

step "Two containers from the image: each a clone of its template, in milliseconds"
ms show berth run -d --image demo/busybox:1 demo-img-a -- sleep 300
ms show berth run -d --image demo/busybox:1 demo-img-b -- sleep 300
echo "(most of that is Node starting berth and crun starting the container; the volume is one clone:"
echo " $(berth image ls --format json | jq -r '.[0].containers | length') containers use the image's template, whatever its size)"
show berth run --image demo/busybox:1 demo-img-fg
show berth list
show berth exec demo-img-a sh -c 'echo written in a > /note'
rc=0
berth exec demo-img-b cat /note 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || die "demo-img-b sees a file written in demo-img-a"
echo "demo-img-b does not see /note: the volumes are independent"

step "Snapshot, change, roll back (a stopped container)"
show berth snapshot create demo-img-a before
show berth exec demo-img-a sh -c 'echo changed after the snapshot > /note'
show berth kill demo-img-a KILL
for _ in $(seq 100); do
  [ "$(status_of demo-img-a)" = stopped ] && break
  sleep 0.1
done
expect_status demo-img-a stopped
show berth snapshot rollback demo-img-a before
rootfs="$(berth state demo-img-a | jq -r .rootfs)"
note="$(cat "$rootfs/note")"
echo "/note after the rollback: $note"
[ "$note" = "written in a" ] || die "the rollback did not restore /note"

step "berth doctor: the host, the backends, storage, state, journal"
rc=0
show berth doctor || rc=$?
[ "$rc" -le 1 ] || die "berth doctor found failures (exit $rc)"

step "berth serve: Prometheus metrics from the journal of everything above, scraped once"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# The binary itself, not the berth function: $! must be berth's pid, not a subshell's.
"$REPO/bin/berth" --root "$ROOT" --config "$CONFIG" serve --listen "127.0.0.1:$port" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
metrics=""
for _ in $(seq 100); do
  metrics="$(node -e 'fetch(process.argv[1]).then(r=>r.ok?r.text():"").then(t=>process.stdout.write(t)).catch(()=>{})' "http://127.0.0.1:$port/metrics")"
  [ -n "$metrics" ] && break
  sleep 0.1
done
[ -n "$metrics" ] || die "berth serve did not answer: $(cat "$WORK/serve.log")"
echo "GET http://127.0.0.1:$port/metrics (some of the series):"
grep -E '^berth_(operations_total|image_cache_(hits_total|bytes)|storage_operations_total)' <<<"$metrics" | head -20
kill "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=""
[ "$rc" -eq 0 ] || die "berth serve did not stop cleanly on SIGTERM (exit $rc): $(cat "$WORK/serve.log")"
