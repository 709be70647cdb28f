#!/usr/bin/env bash
# Builds a shared libcrun (libcrun.so) from Debian's own crun source package, the same version
# as the installed crun, into a cache directory. Run as root (apt-get source/build-dep).
#
#   sudo scripts/build-libcrun.sh            # build if missing; prints the path of the .so
#   scripts/build-libcrun.sh --print-path    # only print where the .so is (or would be)
#
# Debian 12 ships only a static, non-PIC libcrun.a and no headers, so berth's in-process backend
# (crun-abi) needs this step. What it does, each step only when needed:
#   1. adds a deb-src entry for the suites of /etc/apt/sources.list.d/debian.sources
#      (as /etc/apt/sources.list.d/berth-deb-src.sources) if apt has no deb-src for bookworm
#   2. apt-get source crun=<installed version>; apt-get build-dep -y crun
#   3. ./configure --enable-shared --disable-criu (criu support needs protobuf-c); make -j2
#   4. copies the .so to $BERTH_LIBCRUN_CACHE/<upstream version>/libcrun.so
#      (default $REPO/.cache/libcrun) and writes VERSION next to it (the Debian version)
# Idempotent: when the .so and its VERSION match the installed crun, it only prints the path.
set -euo pipefail

say() { printf 'build-libcrun: %s\n' "$*" >&2; }
die() { printf 'build-libcrun: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'printf "build-libcrun: FAILED (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${BERTH_LIBCRUN_CACHE:-$REPO/.cache/libcrun}"

deb_version="$(dpkg-query -W -f '${Version}' crun 2>/dev/null)" || die "crun is not installed (apt-get install crun): the library is built from the same version"
upstream="${deb_version#*:}"
upstream="${upstream%%-*}"
out_dir="$CACHE/$upstream"
out="$out_dir/libcrun.so"

if [ "${1:-}" = --print-path ]; then
  echo "$out"
  exit 0
fi
[ -z "${1:-}" ] || die "unknown argument \"$1\" (use --print-path)"

if [ -f "$out" ] && [ "$(cat "$out_dir/VERSION" 2>/dev/null)" = "$deb_version" ]; then
  say "up to date: $out (crun $deb_version)"
  echo "$out"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root for apt-get source/build-dep; try: sudo $0"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -o DPkg::Lock::Timeout=300)

# --- 1. deb-src ----------------------------------------------------------------------------------
has_deb_src() {
  grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]].*bookworm)' /etc/apt/sources.list /etc/apt/sources.list.d/ \
    && grep -rqsE 'bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! has_deb_src; then
  src_file=/etc/apt/sources.list.d/berth-deb-src.sources
  say "adding deb-src entries for bookworm ($src_file)"
  cat >"$src_file" <<'EOF'
# Added by berth's scripts/build-libcrun.sh: source packages, to build a shared libcrun.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get "${apt_opts[@]}" update >&2 || die "apt-get update failed after adding $src_file"
fi

# --- 2. source and build dependencies ----------------------------------------------------------
if ! command -v dpkg-source >/dev/null; then
  say "installing dpkg-dev (apt-get source unpacks with dpkg-source)"
  apt-get "${apt_opts[@]}" install -y --no-install-recommends dpkg-dev </dev/null >&2 || die "apt-get install dpkg-dev failed"
fi
build_root="$CACHE/build-$deb_version"
src_dir=""
[ -d "$build_root" ] && src_dir="$(find "$build_root" -maxdepth 1 -type d -name "crun-$upstream*" | head -n1)"
if [ -z "$src_dir" ]; then
  mkdir -p "$build_root"
  say "fetching the crun $deb_version source package into $build_root"
  (cd "$build_root" && apt-get "${apt_opts[@]}" source "crun=$deb_version" >&2) \
    || die "apt-get source crun=$deb_version failed (is a deb-src entry for its suite configured?)"
  src_dir="$(find "$build_root" -maxdepth 1 -type d -name "crun-$upstream*" | head -n1)"
  [ -n "$src_dir" ] || die "apt-get source left no crun-$upstream* directory in $build_root"
fi
say "installing the build dependencies of crun (apt-get build-dep)"
apt-get "${apt_opts[@]}" build-dep -y crun </dev/null >&2 || die "apt-get build-dep crun failed"

# --- 3. build ------------------------------------------------------------------------------------
cd "$src_dir"
if [ ! -f Makefile ]; then
  [ -x configure ] || { say "no configure script: running autogen.sh"; ./autogen.sh >&2; }
  say "configuring ($src_dir)"
  ./configure --enable-shared --disable-criu >&2 || die "./configure --enable-shared --disable-criu failed (see $src_dir/config.log)"
fi
say "building (make -j2)"
make -j2 >&2 || die "make failed in $src_dir"
built="$(find . -path '*/.libs/libcrun.so*' -type f | sort | head -n1)"
[ -n "$built" ] || die "make produced no .libs/libcrun.so* in $src_dir"

# --- 4. install into the cache -------------------------------------------------------------------
# (Not `nm | grep -q`: under pipefail, grep's early exit can fail nm with SIGPIPE.)
symbols="$(nm -D --defined-only "$built")" || die "nm cannot read $built"
grep -q ' T libcrun_container_create$' <<<"$symbols" || die "$built does not export libcrun_container_create"
mkdir -p "$out_dir"
rm -f "$out_dir/VERSION"
cp "$built" "$out.tmp"
mv "$out.tmp" "$out"
printf '%s\n' "$deb_version" >"$out_dir/VERSION"
say "built $out (crun $deb_version)"
echo "$out"
