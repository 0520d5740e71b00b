#!/usr/bin/env bash
# Adds every public member that is not yet listed to its project's PublicAPI.Unshipped.txt (RS0016 code fix), and
# removes entries of members that no longer exist (RS0017). Run after changing a package's public surface, then review
# the diff of the PublicAPI files: it is the change to the public API. The code fix does not always run (seen once,
# with "Formatted 0 of N files" although the build reported RS0016): then copy the symbol from the build's RS0016
# message into PublicAPI.Unshipped.txt by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for project in src/*/*.csproj; do
  dir=$(dirname "$project")
  for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [ -f "$dir/$file" ] || printf '#nullable enable\n' >"$dir/$file"
  done
  dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity warn
done
