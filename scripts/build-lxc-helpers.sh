#!/usr/bin/env bash
# Builds the lxc backend's helpers from native/lxc/ into $BERTH_LXC_HELPERS (default
# <repo>/.cache/lxc):
#   berth-lxc-init   static (the image may have no libc): the container's first process; waits to be
#                    started, then execs the OCI process in place
#   berth-lxc-start  links liblxc: runs a container in the foreground and exits with its status
#   berth-lxc-detach starts a program as an orphan (for exec --detach) and prints its pid
#   berth-lxc-console runs a program with a connection to a console socket at a given fd (exec -t)
# Needs gcc, libc6-dev (static libc) and lxc-dev (liblxc's header); scripts/install-deps.sh
# installs them. Idempotent: rebuilds only when a source is newer than its binary.
#
#   scripts/build-lxc-helpers.sh             # build if needed; prints the directory
set -euo pipefail

say() { printf 'build-lxc-helpers: %s\n' "$*" >&2; }
die() { printf 'build-lxc-helpers: FAILED: %s\n' "$*" >&2; exit 1; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BERTH_LXC_HELPERS:-$REPO/.cache/lxc}"
SRC="$REPO/native/lxc"

command -v gcc >/dev/null || die "gcc not found (apt-get install gcc libc6-dev)"
[ -f /usr/include/lxc/lxccontainer.h ] || die "liblxc's header is missing (apt-get install lxc-dev)"
mkdir -p "$OUT"

build() { # name, extra gcc flags...
  local name="$1"; shift
  if [ "$OUT/$name" -nt "$SRC/$name.c" ] && [ "$OUT/$name" -nt "$SRC/berth-fd.h" ]; then
    say "up to date: $OUT/$name"
    return
  fi
  say "building $OUT/$name"
  gcc -O2 -Wall -Wextra -Werror -o "$OUT/$name.tmp" "$SRC/$name.c" "$@" || die "gcc $name.c failed"
  mv "$OUT/$name.tmp" "$OUT/$name"
}
build berth-lxc-init -static
build berth-lxc-start -llxc
build berth-lxc-detach
build berth-lxc-console
echo "$OUT"
