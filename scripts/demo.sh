#!/usr/bin/env bash
# The main job: from a fresh Debian 12 machine to containers run by berth. Run as root.
#
#   sudo scripts/demo.sh
#
# 1. installs the dependencies and builds berth (scripts/install-deps.sh),
# 2. prepares the host's cgroups for crun if needed (scripts/prepare-host.sh),
# 3. builds a busybox OCI bundle in a temp dir and runs it in the foreground (crun),
# 4. runs a second one detached, routed to runc by a config rule: create, start, state, list,
#    exec, kill, delete,
# 5. removes everything it made (bundles, berth's state root, the containers).
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

step "Preparing the host"
bash scripts/prepare-host.sh

WORK="$(mktemp -d /tmp/berth-demo.XXXXXX)"
ROOT="$WORK/state"            # berth --root: container records and the backends' state
CONFIG="$WORK/berth.toml"

# berth as the demo uses it: its own state root and config, never the host's /run/berth.
berth() { "$REPO/bin/berth" --root "$ROOT" --config "$CONFIG" "$@"; }

cleanup() {
  local rc=$? ids id
  trap - ERR
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
