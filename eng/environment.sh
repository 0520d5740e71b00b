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
  local log=artifacts/restore.log
  mkdir -p artifacts
  if dotnet restore Meshinery.sln -v quiet >"$log" 2>&1; then
    return
  fi
  if grep -qE "NU110[0-9].*librdkafka\.redist" "$log"; then
    # Some NuGet feeds do not serve librdkafka.redist. Then the client runs on the system's librdkafka instead.
    use_system_librdkafka
    if dotnet restore Meshinery.sln -v quiet >"$log" 2>&1; then
      return
    fi
  fi
  cat "$log" >&2
  echo "error: 'dotnet restore' failed; see the lines above (NuGet must serve the packages in Directory.Packages.props)." >&2
  exit 1
}

# Where NuGet cannot restore librdkafka.redist: installs Debian's librdkafka (2.0.2 on Debian 12), provides an empty
# placeholder librdkafka.redist in a local feed so that restore succeeds, and builds with Confluent.Kafka 1.9.3, the
# version that runs on that librdkafka (2.x does not). MSBuild reads the two variables exported here as properties.
use_system_librdkafka() {
  local confluent=1.9.3 redist=1.9.2 # the librdkafka.redist version Confluent.Kafka 1.9.3 depends on
  echo "NuGet does not serve librdkafka.redist: using the system's librdkafka with Confluent.Kafka $confluent." >&2
  # Confluent.Kafka 1.9.3 loads "librdkafka.so": the link the -dev package installs.
  local ldconfig
  ldconfig=$(command -v ldconfig || echo /sbin/ldconfig) # /sbin is not on a normal user's PATH on Debian
  if ! "$ldconfig" -p 2>/dev/null | grep "librdkafka\.so " >/dev/null; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    local install="$sudo apt-get install -y -qq --no-install-recommends librdkafka-dev"
    if ! command -v apt-get >/dev/null 2>&1 || ! { $install || { $sudo apt-get update -qq && $install; }; } >&2; then
      echo "error: could not install librdkafka-dev (Debian package); install it, or use a NuGet feed that serves librdkafka.redist." >&2
      exit 1
    fi
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is needed to write the placeholder librdkafka.redist package; install it (apt-get install python3)." >&2
    exit 1
  fi
  local feed="$PWD/artifacts/placeholder-feed"
  mkdir -p "$feed/pkg"
  cat >"$feed/pkg/librdkafka.redist.nuspec" <<NUSPEC
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>librdkafka.redist</id>
    <version>$redist</version>
    <authors>Meshinery build</authors>
    <description>Placeholder without native files: librdkafka comes from the system (Debian's librdkafka-dev).</description>
  </metadata>
</package>
NUSPEC
  # A .nupkg is a zip with the .nuspec at its root.
  (cd "$feed/pkg" && rm -f "../librdkafka.redist.$redist.nupkg" &&
    python3 -c "import zipfile; z = zipfile.ZipFile('../librdkafka.redist.$redist.nupkg', 'w'); z.write('librdkafka.redist.nuspec'); z.close()")
  export ConfluentKafkaVersion=$confluent RestoreAdditionalProjectSources="$feed"
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
  local passed=0 total=0 p t trx found=0
  for trx in "$1"/*.trx; do
    [ -e "$trx" ] || continue
    found=1
    p=$(grep -o '<Counters [^>]*' "$trx" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
    t=$(grep -o '<Counters [^>]*' "$trx" | sed -n 's/.* total="\([0-9]*\)".*/\1/p')
    passed=$((passed + ${p:-0})); total=$((total + ${t:-0}))
  done
  [ "$found" -eq 1 ] || echo "error: no test results were written (the build or the test run failed before any test ran)." >&2
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
