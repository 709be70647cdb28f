#!/usr/bin/env bash
# Installs a built berth (npm ci && npm run build first) on this host: the commands of
# package.json's "bin" on the PATH (links into this checkout), shell completion for bash, zsh and
# fish, and the man pages (man berth, man berth-VERB). Idempotent; DESTDIR and PREFIX
# (default /usr/local) as usual. Run as root for the default paths.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: FAILED: %s\n' "$*" >&2; exit 1; }

[ -f dist/src/bin/berth.js ] || die "berth is not built here: run npm ci && npm run build first"
berth=("$(command -v node)" "$repo/dist/src/bin/berth.js")

bindir="$DESTDIR$PREFIX/bin"
mkdir -p "$bindir"
for cmd in $(node -e 'for (const k of Object.keys(require("./package.json").bin ?? {})) console.log(k)'); do
  ln -sfn "$repo/bin/$cmd" "$bindir/$cmd"
  say "$bindir/$cmd -> $repo/bin/$cmd"
done

# Completion scripts where each shell looks for them by default.
install_file() { # PATH: stdin into PATH
  mkdir -p "$(dirname "$1")"
  cat >"$1.tmp" && mv "$1.tmp" "$1"
  say "$1"
}
"${berth[@]}" completion bash | install_file "$DESTDIR/usr/share/bash-completion/completions/berth"
"${berth[@]}" completion zsh | install_file "$DESTDIR$PREFIX/share/zsh/site-functions/_berth"
"${berth[@]}" completion fish | install_file "$DESTDIR/usr/share/fish/vendor_completions.d/berth.fish"

mandir="$DESTDIR$PREFIX/share/man/man1"
"${berth[@]}" man --output "$mandir" >/dev/null
say "$mandir/berth.1 and berth-VERB.1"
# man finds the pages by path; only `man -k` needs the index refreshed.
if [ -z "$DESTDIR" ] && command -v mandb >/dev/null && ! mandb -q "$PREFIX/share/man" 2>/dev/null; then
  say "mandb could not refresh its index: man -k may miss berth until it runs"
fi
say "done: berth $("${berth[@]}" --version | head -1 | cut -d' ' -f3)"
