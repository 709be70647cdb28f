#!/usr/bin/env bash
# Prepares a host's cgroups for crun 1.8.1 (Debian 12's). Run as root.
#
#   sudo scripts/prepare-host.sh            # change the host if it needs it
#   scripts/prepare-host.sh --dry-run       # only say what would be done
#
# crun 1.8.1 refuses a "hybrid" cgroup layout (v1 controllers under /sys/fs/cgroup/<ctrl> plus a
# cgroup2 hierarchy at /sys/fs/cgroup/unified that still owns controllers) with
#   cgroups in hybrid mode not supported, drop all controllers from cgroupv2
# On such a host this script binds each controller the v2 hierarchy still owns (typically only
# hugetlb) to a v1 hierarchy of its own, e.g.
#   mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
# which leaves the v2 hierarchy without controllers. runc 1.1.5 works either way.
# Pure cgroup v2 hosts (Proxmox VE 8 and 9) and pure v1 hosts are left alone. Idempotent: once
# the v2 hierarchy has no controllers there is nothing to do. The mount is not persistent: run
# the script again after a reboot.
#
# For tests of this script only: BERTH_CGROUP_ROOT (default /sys/fs/cgroup) and
# BERTH_MOUNTINFO (default /proc/self/mountinfo) point it at a fake layout.
set -euo pipefail

CGROUP_ROOT="${BERTH_CGROUP_ROOT:-/sys/fs/cgroup}"
MOUNTINFO="${BERTH_MOUNTINFO:-/proc/self/mountinfo}"
UNIFIED="$CGROUP_ROOT/unified"

dry_run=false
case "${1:-}" in
  '') ;;
  --dry-run) dry_run=true ;;
  -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
  *) echo "prepare-host: unknown argument \"$1\" (use --dry-run or --help)" >&2; exit 2 ;;
esac

say() { printf 'prepare-host: %s\n' "$*"; }
die() { printf 'prepare-host: FAILED: %s\n' "$*" >&2; exit 1; }

[ -r "$MOUNTINFO" ] || die "cannot read $MOUNTINFO"

# The filesystem type mounted at a path, from mountinfo (the last mount there wins); empty if none.
# mountinfo fields: ... 5:mount point ... "-" fstype source options
fstype_at() {
  awk -v mp="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($5 == mp) t = $(i + 1); break } } END { print t }' "$MOUNTINFO"
}

# How many cgroup v1 hierarchies are mounted anywhere.
v1_mounts() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup") n++; break } } END { print n + 0 }' "$MOUNTINFO"
}

if [ "$(fstype_at "$CGROUP_ROOT")" = cgroup2 ]; then
  say "nothing to do: pure cgroup v2 host ($CGROUP_ROOT is cgroup2), which crun supports"
  exit 0
fi
if [ "$(v1_mounts)" -eq 0 ]; then
  say "nothing to do: no cgroup v1 hierarchy is mounted, so this is not a hybrid host"
  exit 0
fi
if [ "$(fstype_at "$UNIFIED")" != cgroup2 ]; then
  say "nothing to do: pure cgroup v1 host (no cgroup2 at $UNIFIED), which crun supports"
  exit 0
fi

# The controllers the v2 hierarchy owns, into the array named by $1.
read_v2_controllers() {
  local text
  text="$(cat "$UNIFIED/cgroup.controllers")" || die "cannot read $UNIFIED/cgroup.controllers"
  read -r -a "$1" <<< "$text"
}

controllers=()
read_v2_controllers controllers
if [ "${#controllers[@]}" -eq 0 ]; then
  say "nothing to do: hybrid cgroup host whose v2 hierarchy ($UNIFIED) has no controllers, as crun 1.8.1 needs"
  exit 0
fi

if $dry_run; then
  for c in "${controllers[@]}"; do say "would run: mkdir -p $CGROUP_ROOT/$c && mount -t cgroup -o $c cgroup $CGROUP_ROOT/$c"; done
  say "would do that because $UNIFIED (cgroup v2) still owns ${controllers[*]} next to v1 controllers, which crun 1.8.1 refuses"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root to mount cgroup hierarchies; try: sudo $0"
for c in "${controllers[@]}"; do
  mkdir -p "$CGROUP_ROOT/$c" || die "cannot create $CGROUP_ROOT/$c (is $CGROUP_ROOT read-only?)"
  mount -t cgroup -o "$c" cgroup "$CGROUP_ROOT/$c" \
    || die "cannot mount the $c controller as cgroup v1 at $CGROUP_ROOT/$c (is it in use in $UNIFIED?)"
done
left=()
read_v2_controllers left
[ "${#left[@]}" -eq 0 ] || die "$UNIFIED still owns controllers after the mounts: ${left[*]}"
say "mounted ${controllers[*]} as cgroup v1 under $CGROUP_ROOT, because $UNIFIED (cgroup v2) owned them next to v1 controllers and crun 1.8.1 refuses such a hybrid host"
