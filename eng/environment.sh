#!/usr/bin/env bash
# Functions used by build.sh. Everything the machine needs is checked (and, where it can be, installed) here.

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ensure_environment() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK 10 is required (https://dot.net); 'dotnet' is not on PATH." >&2
    exit 1
  fi
  # Confluent.Kafka's librdkafka.redist carries the native client for linux-x64; it needs no system package.
  # Restore once up front so that a missing package is reported clearly, before any build output.
  if ! dotnet restore Meshinery.sln -v quiet >artifacts-restore.log 2>&1; then
    cat artifacts-restore.log >&2
    echo "error: 'dotnet restore' failed; see the lines above (NuGet must serve the packages in Directory.Packages.props)." >&2
    rm -f artifacts-restore.log
    exit 1
  fi
  rm -f artifacts-restore.log
}

# Runs every test project, writes TRX files to artifacts/test-results and prints "N passed, N failed".
run_tests() {
  local results=artifacts/test-results
  rm -rf "$results"
  local status=0
  dotnet test Meshinery.sln -c Release --no-restore --logger trx --results-directory "$results" \
    --blame-hang-timeout 10m "$@" || status=$?
  summarize_results "$results"
  return $status
}

summarize_results() {
  local passed=0 total=0 p t
  shopt -s nullglob
  for trx in "$1"/*.trx; do
    p=$(grep -o '<Counters [^>]*' "$trx" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
    t=$(grep -o '<Counters [^>]*' "$trx" | sed -n 's/.* total="\([0-9]*\)".*/\1/p')
    passed=$((passed + ${p:-0})); total=$((total + ${t:-0}))
  done
  echo "$passed passed, $((total - passed)) failed"
}

run_ci() {
  export CI=true
  # The Kafka library must keep compiling against Confluent.Kafka 1.9.3 too. Built first: it restores with
  # other versions, and the full build below restores the solution's own versions again.
  dotnet build src/Meshinery.Kafka/Meshinery.Kafka.csproj -c Release -p:ConfluentKafkaVersion=1.9.3 \
    -o artifacts/compat-confluent-1.9.3
  dotnet build Meshinery.sln -c Release
  dotnet pack Meshinery.sln -c Release --no-build -o artifacts/packages
  run_tests --no-build
}
