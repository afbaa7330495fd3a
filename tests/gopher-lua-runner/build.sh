#!/usr/bin/env bash
# Builds the gopher-lua runner in GOPATH mode against Debian's golang-github-yuin-gopher-lua-dev.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -f "$here/main.go" ] || { echo "gopher-lua runner: no main.go yet"; exit 0; }
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
go build -o "$here/gopher-lua-runner" "$here/main.go"
