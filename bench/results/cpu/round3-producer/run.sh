#!/usr/bin/env bash
# Round three, issue 12: before (main 31daf4e), harness (the probe forwards IsNonBlocking, f5e1cb7), after (+ the pooled
# produce completion, 62d9a22), built into /tmp/i12c-{before,harness,after}; alternated per workload in one sitting.
# The harness fix changes only writes after an async step, so blocking and no-op run before and after only.
set -u
out=bench/results/cpu/round3-producer
for w in async-p1-c200 blocking-p1-c200 noop-p1; do
  builds="before harness after"; systems=meshinery,key-hash-workers
  case $w in blocking-*) builds="before after";; noop-*) builds="before after"; systems=meshinery,key-hash-workers,raw-loop;; esac
  for b in $builds; do
    /work/wt/wait-quiet.sh
    echo "$(date -u +%H:%M:%S) $b $w $(uptime)" >> $out/load.txt
    nice -n 10 dotnet /tmp/i12c-$b/Meshinery.Scenarios.dll --repeat 3 --only $w --systems $systems \
      --out $out/$b-$w.json > $out/$b-$w.log 2>&1
  done
done
echo "$(date -u +%H:%M:%S) end $(uptime)" >> $out/load.txt
