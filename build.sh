#!/usr/bin/env bash
# The project's one entry point. It checks and prepares the machine itself, then:
#   ./build.sh test [dotnet test args]   build and run every test; last line "N passed, N failed"
#   ./build.sh run  [sample args]        run the main sample (OrderEnrichment on an embedded Kafka cluster)
#   ./build.sh ci                        what CI runs: strict build (warnings are errors), the Confluent.Kafka
#                                        1.9.3 compile check, pack, then the tests
#   ./build.sh bench [harness args]      the side-by-side scenario harness (see docs/benchmarks.md)
#   ./build.sh faults [--scenario NAME]  the fault-injection tool (see docs/reliability.md)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source eng/environment.sh

command=${1:-test}
[ $# -gt 0 ] && shift

case "$command" in
  test)  ensure_environment; run_tests "$@" ;;
  run)   ensure_environment; dotnet run -c Release --project samples/OrderEnrichment -- "$@" ;;
  ci)    ensure_environment; run_ci ;;
  bench) ensure_environment; dotnet run -c Release --project bench/Meshinery.Scenarios -- "$@" ;;
  faults) ensure_environment; dotnet run -c Release --project bench/Meshinery.Faults -- "$@" ;;
  *) echo "usage: ./build.sh [test|run|ci|bench|faults] [args...]" >&2; exit 2 ;;
esac
