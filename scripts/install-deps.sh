#!/usr/bin/env bash
# Installs what berth needs on a Debian 12 host, then builds berth. Run as root.
#
#   sudo scripts/install-deps.sh
#
# Idempotent: apt-get runs only when a package is missing, `npm ci` only when node_modules is
# missing or older than package-lock.json. Every failure stops the script with a message that
# names the step that failed.
set -euo pipefail

# openssl: the Proxmox API double's test certificates; tar: the pve backend packs rootfs tarballs for templates.
# lxc, lxc-dev, gcc, libc6-dev: the lxc backend and its two small helpers (scripts/build-lxc-helpers.sh).
# docker-registry, skopeo, apache2-utils (htpasswd): the registry that `berth image pull` is tested against.
# golang-github-containerd-{containerd,ttrpc}-dev: containerd's and ttrpc's .proto/Go sources, which
# scripts/gen-shim-proto.sh regenerates the shim's protobuf code from (the build uses the committed output).
# zsh, fish, man-db: the completion scripts and man pages are tested with the real shells and man.
PACKAGES=(zsh fish man-db crun runc busybox-static containerd podman docker.io golang-github-opencontainers-specs-dev jq zfs-fuse prometheus zstd umoci openssl tar lxc lxc-dev gcc libc6-dev docker-registry skopeo apache2-utils golang-github-containerd-containerd-dev golang-github-containerd-ttrpc-dev)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: FAILED: %s\n' "$*" >&2; exit 1; }
# Any command that fails without its own message still names itself.
on_error() { printf 'install-deps: FAILED (exit %s) at line %s: %s\n' "$1" "$2" "$3" >&2; }
trap 'on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR

cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install and the container tests need it); try: sudo $0"
command -v dpkg >/dev/null || die "dpkg not found: this script is for Debian 12"

# --- Debian packages ---------------------------------------------------------------------------
installed() {
  # dpkg -s also succeeds for removed packages whose config files remain: check the status line.
  # (Not `dpkg -s | grep -q`: under pipefail, grep's early exit can fail dpkg with SIGPIPE.)
  local status
  status="$(dpkg -s "$1" 2>/dev/null)" || return 1
  grep -qx 'Status: install ok installed' <<<"$status"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  say "Debian packages already installed: ${PACKAGES[*]}"
else
  say "installing missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a dpkg lock held by another apt run instead of failing at once.
  apt_opts=(-q -o DPkg::Lock::Timeout=300)
  apt-get "${apt_opts[@]}" update || die "apt-get update failed (is the network or the apt mirror reachable?)"
  # The tests start private daemons of their own (containerd, dockerd, Podman): a package's
  # service is not started by this install (policy-rc.d 101: "action forbidden"), unless the host
  # already has a policy of its own.
  policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  # No recommends: runc recommends criu, which cannot checkpoint on this kernel anyway.
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null \
    || die "apt-get install ${missing[*]} failed"
  if [ -n "$made_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  for pkg in "${missing[@]}"; do
    installed "$pkg" || die "package $pkg is still not installed after apt-get install"
  done
fi

# --- Node.js -----------------------------------------------------------------------------------
# Debian 12's own nodejs is 18, too old: Node 20 or later must come from elsewhere (NodeSource,
# the official tarball, nvm). This script does not install it.
command -v node >/dev/null || die "node not found: berth needs Node.js 20 or later"
command -v npm >/dev/null || die "npm not found: berth needs npm (it comes with Node.js)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: berth needs 20 or later"

# --- npm dependencies --------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: it is the marker of the last one.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  # npm 11 warns that koffi's install script was not run; koffi ships a prebuilt binary for
  # Node 20 on linux-x64, and the check below proves it loads.
  npm ci --no-audit --no-fund </dev/null || die "npm ci failed"
else
  say "npm dependencies up to date (node_modules is newer than package-lock.json)"
fi

# berth calls flock(2) through koffi: load it and make one real call into libc.
node --input-type=module -e "
  const koffi = (await import('koffi')).default;
  const getpid = koffi.load('libc.so.6').func('int getpid()');
  if (getpid() !== process.pid) throw new Error('koffi call into libc returned a wrong pid');
" || die "koffi (native FFI module) does not load: try 'rm -rf node_modules && npm ci'"
say "koffi loads and calls into libc"
scripts/build-libcrun.sh >/dev/null || die "building libcrun.so for the crun-abi backend failed (scripts/build-libcrun.sh)"
scripts/build-lxc-helpers.sh >/dev/null || die "building the lxc backend's helpers failed (scripts/build-lxc-helpers.sh)"

# --- build -------------------------------------------------------------------------------------
say "building (npm run build)"
npm run build --silent </dev/null || die "npm run build (tsc) failed"
[ -f dist/src/bin/berth.js ] || die "build produced no dist/src/bin/berth.js"
version="$(./bin/berth --version)" || die "the built berth does not run: ./bin/berth --version failed"
say "done: ${version%%$'\n'*}"
