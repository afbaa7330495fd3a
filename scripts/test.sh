#!/usr/bin/env bash
# Runs every test of the repository. Installs what the tests need when it is missing
# (Go and Debian's gopher-lua for the conformance runner), so a fresh machine with only
# the .NET SDK passes. Prints one closing line: "tests: N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_pkgs=()
command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
[ -d /usr/share/gocode/src/github.com/yuin/gopher-lua ] || need_pkgs+=(golang-github-yuin-gopher-lua-dev)
command -v kubectl >/dev/null 2>&1 || true # kubectl is optional: tests that use it say so when it is absent.
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_pkgs[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# The gopher-lua conformance runner (Argo CD's Lua VM), built from Debian's sources.
bash tests/gopher-lua-runner/build.sh

log="$root/artifacts/test-output.log"
mkdir -p "$root/artifacts"
status=0
dotnet test ArgoHooks.sln -c Release "$@" 2>&1 | tee "$log" || status=$?
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

# One closing line summed over every test project's summary ("Failed: N, Passed: N, Skipped: N").
awk '/(Passed|Failed)! +- +Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
