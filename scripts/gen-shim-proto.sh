#!/usr/bin/env bash
# Regenerates the shim's protobuf TypeScript (src/shim/proto/gen/) from containerd 1.6's .proto
# files as Debian ships them, with @bufbuild/buf and @bufbuild/protoc-gen-es from node_modules.
#
#   scripts/gen-shim-proto.sh
#
# Needs the Debian packages golang-github-containerd-containerd-dev, golang-github-containerd-ttrpc-dev
# (scripts/install-deps.sh installs them) and `npm ci`. The generated files are committed, so a
# build needs none of this; test/unit/shim/proto-gen.test.ts checks that a regeneration still
# declares what the shim uses.
#
# gogo options: containerd's files carry gogoproto options ([(gogoproto.nullable) = false],
# customname, stdtime, enum prefixes) and containerd's own fieldpath options. They only shape the
# Go code gogo generates; the wire format does not depend on them. We strip them instead of
# compiling gogo.proto along: kept, every generated file would import a generated gogo_pb.ts (and
# fieldpath_pb.ts) that describes Go code generation and nothing TypeScript needs. So that the
# stripping can never change a message silently, the script builds the sources twice, once as
# they are (with the real gogo.proto) and once stripped, and requires that every message, field
# (name, number, type, label), enum value and method is identical in both.
set -euo pipefail

say() { printf 'gen-shim-proto: %s\n' "$*"; }
die() { printf 'gen-shim-proto: FAILED: %s\n' "$*" >&2; exit 1; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
GOCODE=/usr/share/gocode/src
CTRD="$GOCODE/github.com/containerd/containerd"
TTRPC="$GOCODE/github.com/containerd/ttrpc"
BUF="$REPO/node_modules/.bin/buf"
PLUGIN="$REPO/node_modules/.bin/protoc-gen-es"
OUT="$REPO/src/shim/proto/gen"

[ -d "$CTRD" ] || die "$CTRD is missing: apt-get install golang-github-containerd-containerd-dev"
[ -f "$TTRPC/types.go" ] || die "$TTRPC/types.go is missing: apt-get install golang-github-containerd-ttrpc-dev"
[ -x "$BUF" ] && [ -x "$PLUGIN" ] || die "buf or protoc-gen-es is missing from node_modules/.bin: run npm ci"
command -v jq >/dev/null || die "jq is missing: apt-get install jq"

# The files the shim uses, as containerd imports them (paths relative to $GOCODE).
CONTAINERD_FILES=(
  github.com/containerd/containerd/runtime/v2/task/shim.proto
  github.com/containerd/containerd/api/types/mount.proto
  github.com/containerd/containerd/api/types/metrics.proto
  github.com/containerd/containerd/api/types/descriptor.proto
  github.com/containerd/containerd/api/types/platform.proto
  github.com/containerd/containerd/api/types/task/task.proto
  github.com/containerd/containerd/api/events/container.proto
  github.com/containerd/containerd/api/events/content.proto
  github.com/containerd/containerd/api/events/image.proto
  github.com/containerd/containerd/api/events/namespace.proto
  github.com/containerd/containerd/api/events/snapshot.proto
  github.com/containerd/containerd/api/events/task.proto
  github.com/containerd/containerd/api/services/ttrpc/events/v1/events.proto
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
orig="$work/orig" stripped="$work/stripped"
mkdir -p "$orig" "$stripped"

module_yaml='version: v2
modules:
  - path: .'
for tree in "$orig" "$stripped"; do
  printf '%s\n' "$module_yaml" >"$tree/buf.yaml"
  for f in "${CONTAINERD_FILES[@]}"; do
    mkdir -p "$tree/$(dirname "$f")" && cp "$GOCODE/$f" "$tree/$f"
  done
  mkdir -p "$tree/google/rpc" "$tree/ttrpc"
  cp "$GOCODE/github.com/gogo/googleapis/google/rpc/status.proto" "$tree/google/rpc/status.proto"
  cp "$REPO/src/shim/proto/ttrpc/request.proto" "$tree/ttrpc/request.proto"
done
# Only the unstripped tree gets the option definitions (google/protobuf/* are buf's built-ins).
mkdir -p "$orig/gogoproto" "$orig/github.com/containerd/containerd/protobuf/plugin"
cp "$GOCODE/github.com/gogo/protobuf/gogoproto/gogo.proto" "$orig/gogoproto/"
cp "$CTRD/protobuf/plugin/fieldpath.proto" "$orig/github.com/containerd/containerd/protobuf/plugin/"

# Strip: the weak imports, `option (gogoproto.x) = …;` / `option (containerd.plugin.x) = …;`
# lines, and bracketed option lists made only of gogoproto options. A list mixing in any other
# option is an error (it would need care, not a regex).
while IFS= read -r -d '' f; do
  perl -0pi -e '
    s/^\s*import\s+weak\s+"[^"]+";\s*\n//mg;
    s/^\s*option\s+\((?:gogoproto|containerd\.plugin)\.[^)]*\)\s*=[^;]*;\s*\n//mg;
    s/\s*\[\s*\(gogoproto\.[^\]]*\]//g;
  ' "$f"
  if grep -nE 'gogoproto|containerd\.plugin' "$f" >&2; then die "gogo or fieldpath options left in $f after stripping (see above)"; fi
done < <(find "$stripped" -name '*.proto' -print0)

# The shape of every message, enum and service, options left out.
shape='def msgs: ., ((.nestedType // [])[] | msgs);
  [.file[] | select(.name | test("^(gogoproto/|github.com/containerd/containerd/protobuf/plugin/|google/protobuf/descriptor.proto$)") | not) | {name,
  messages: [(.messageType // [])[] | msgs | {name, field: [(.field // [])[] | {name, number, type, "label": .label, typeName, oneofIndex}]}],
  enums: [((.enumType // [])[]), ((.messageType // [])[] | msgs | (.enumType // [])[]) | {name, value: [.value[] | {name, number}]}],
  services: [(.service // [])[] | {name, method: [.method[] | {name, inputType, outputType}]}]}]'
(cd "$orig" && "$BUF" build --exclude-source-info -o "$work/orig.json") || die "buf build of the unmodified sources failed"
(cd "$stripped" && "$BUF" build --exclude-source-info -o "$work/stripped.json") || die "buf build of the stripped sources failed"
jq -S "$shape" "$work/orig.json" >"$work/orig.shape"
jq -S "$shape" "$work/stripped.json" >"$work/stripped.shape"
[ "$(jq 'map(.messages | length) | add' "$work/orig.shape")" -gt 50 ] || die "the shape extraction found too few messages: the jq filter is broken"
diff -u "$work/orig.shape" "$work/stripped.shape" >&2 || die "stripping the gogo options changed the messages (diff above)"
say "stripped gogo/fieldpath options; messages, fields, enums and methods unchanged"

# request.proto restates ttrpc's Go struct tags: every `name=X` tag's field number must match.
while read -r msg number name; do
  got="$(jq -r --arg m "$msg" --arg n "$name" '.file[] | select(.name == "ttrpc/request.proto") | .messageType[] | select(.name == $m) | .field[] | select(.name == $n) | .number' "$work/stripped.json")"
  [ "$got" = "$number" ] || die "ttrpc/request.proto: $msg.$name is field ${got:-missing}, ttrpc's types.go says $number"
done < <(awk '/^type [A-Za-z]+ struct/ {msg=$2} match($0, /protobuf:"[a-z]+,[0-9]+,[a-z]+,name=[a-z_]+/) {split(substr($0, RSTART+10, RLENGTH-10), t, ","); sub("name=", "", t[4]); print msg, t[2], t[4]}' "$TTRPC/types.go")
say "ttrpc/request.proto matches $TTRPC/types.go"

cat >"$stripped/buf.gen.yaml" <<EOF
version: v2
plugins:
  - local: $PLUGIN
    out: $work/gen
    opt:
      - target=ts
      - import_extension=js
EOF
(cd "$stripped" && "$BUF" generate) || die "buf generate failed"
rm -rf "$OUT"
mkdir -p "$OUT"
cp -r "$work/gen/." "$OUT/"
say "wrote $(find "$OUT" -name '*.ts' | wc -l) files to ${OUT#"$REPO"/}"
