#!/bin/bash
# usage: final-bench.sh OUTDIR  (run from /work/main)
set +e
OUT=$1; mkdir -p $OUT
cd /work/main; source eng/environment.sh; ensure_environment > $OUT/env.log 2>&1
touch /work/runs/QUIET
dotnet build -c Release bench/Meshinery.Scenarios -o /tmp/final-bench > $OUT/build.log 2>&1 || { echo build failed; rm -f /work/runs/QUIET; exit 1; }
dotnet build -c Release bench/Meshinery.Faults > $OUT/build-faults.log 2>&1 || { echo faults build failed; rm -f /work/runs/QUIET; exit 1; }
git rev-parse --short HEAD > $OUT/commit.txt
{ date -u; uptime; } > $OUT/load.txt
dotnet /tmp/final-bench/Meshinery.Scenarios.dll --repeat 3 \
  --only blocking-p1-c200,async-p1-c200,blocking-p8-c200,async-p8-c200,async-p1-c1000,async-p1-c2000,async-p1-c5000,noop-p1,open-async \
  --systems meshinery,key-hash-workers,raw-loop --out $OUT/final.json > $OUT/final.log 2>&1
{ date -u; uptime; } >> $OUT/load.txt
for r in 1 2 3; do
  dotnet run -c Release --no-build --project bench/Meshinery.Faults -- --scenario scale-out --results $OUT/scale-out-r$r > $OUT/scale-out-r$r.stdout 2>&1
  { date -u; uptime; } >> $OUT/load.txt
done
rm -f /work/runs/QUIET
echo done
