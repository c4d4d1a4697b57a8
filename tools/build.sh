#!/usr/bin/env bash
# Builds the Go programs the tests run as real peers (kube-apiserver, etcd, a second IdP), each a small
# Go module in tools/<name>/ with pinned versions and a recorded go.sum.
#
#   tools/build.sh [name ...]      build the named tools (default: every tools/*/ module)
#   tools/build.sh --path name     print where the binary lives (built or not)
#
# A module that needs Go build tags (say, a database driver behind a tag) names them, comma-separated,
# in tools/<name>/build-tags.
#
# A binary is cached outside the repository under a folder keyed by the module's inputs (go.mod,
# go.sum, build-tags and its .go files), so only the first run on a machine pays for the build; Go's
# own build cache makes a rebuild after a version change cheap too. KOB_TOOLS_CACHE overrides the cache folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KOB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-oidc-bridge/tools}"

key_of() {
  (cd "$here/$1" && cat go.mod go.sum $(ls build-tags ./*.go 2>/dev/null | sort)) | sha256sum | cut -c1-16
}

binary_of() {
  echo "$cache/$1-$(key_of "$1")/$1"
}

if [ "${1:-}" = "--path" ]; then
  binary_of "$2"
  exit 0
fi

names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
  for dir in "$here"/*/; do
    [ -f "$dir/go.mod" ] && names+=("$(basename "$dir")")
  done
fi

if ! command -v go >/dev/null 2>&1; then
  echo "tools/build.sh: the Go toolchain (go) is not on PATH; install Go 1.26 to build ${names[*]}" >&2
  exit 1
fi

for name in "${names[@]}"; do
  out="$(binary_of "$name")"
  if [ -x "$out" ]; then
    echo "tools: $name is built ($out)"
    continue
  fi
  echo "tools: building $name (the first build on a machine takes minutes) ..."
  start=$SECONDS
  mkdir -p "$(dirname "$out")"
  # A module either is the program (a main package here) or names one in a `tool` directive.
  target=.
  if ! ls "$here/$name"/*.go >/dev/null 2>&1; then
    target="$(cd "$here/$name" && go list tool | head -n1)"
  fi
  tags=""
  [ -f "$here/$name/build-tags" ] && tags="$(tr -d '[:space:]' < "$here/$name/build-tags")"
  (cd "$here/$name" && go build -tags "$tags" -o "$out.partial" "$target")
  mv "$out.partial" "$out"
  echo "tools: built $name in $((SECONDS - start)) s"
done
