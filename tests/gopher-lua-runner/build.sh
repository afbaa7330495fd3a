#!/usr/bin/env bash
# Builds the gopher-lua conformance runner (Argo CD's Lua VM) in GOPATH mode against Debian's
# golang-github-yuin-gopher-lua-dev, with the Go standard library only. scripts/test.sh runs it
# before `dotnet test`; the .NET tests fail with a hint when the binary is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -d /usr/share/gocode/src/github.com/yuin/gopher-lua ] || {
  echo "gopher-lua runner: install golang-go and golang-github-yuin-gopher-lua-dev (scripts/test.sh does it)" >&2; exit 1; }
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="${GOCACHE:-${HOME:-/tmp}/.cache/go-build}"
go build -o "$here/gopher-lua-runner" "$here/main.go"
