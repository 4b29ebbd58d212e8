#!/bin/bash
# GPU check of the ingest core: capabilities, then each clip on cpu / cuda / auto; outputs validated with ffprobe.
cd "$(dirname "$0")"
export LD_LIBRARY_PATH=$PWD
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
(nvidia-smi -L || true) > "$OUT/gpu.txt" 2>&1
nproc >> "$OUT/gpu.txt"
./fmv-core capabilities > "$OUT/caps.json" 2>&1
{
for clip in ${CLIPS:-fhd-10s uhd-4s}; do
  for hw in ${PATHS:-cpu cuda auto}; do
    rm -rf "o-$clip-$hw"
    printf '{"input":"%s.ts","outDir":"o-%s-%s","requestedResolutions":"uhd","hwaccel":"%s","progress":false}' "$clip" "$clip" "$hw" "$hw" > job.json
    python3 - "$clip" "$hw" <<'PY'
import json, resource, subprocess, sys, time
clip, hw = sys.argv[1:3]
t = time.time()
p = subprocess.run(["./fmv-core", "ingest", "job.json"], capture_output=True, text=True)
wall = time.time() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
try:
    res = json.loads(p.stdout)
except Exception:
    res = {"ok": False, "stdout": p.stdout[-500:]}
hwr = res.get("hardware", {})
print(json.dumps({"clip": clip, "hwaccel": hw, "ok": res.get("ok"), "wall_s": round(wall, 2), "cpu_s": round(r.ru_utime + r.ru_stime, 2),
  "maxrss_mb": round(r.ru_maxrss / 1024), "transcode_ms": res.get("timings", {}).get("transcodeMs"), "fps": res.get("fps"), "speed": res.get("speed"),
  "used": hwr.get("used"), "decoder": hwr.get("decoder"), "scaler": hwr.get("scaler"), "encoder": hwr.get("encoder"), "reason": hwr.get("reason"),
  "code": res.get("code"), "message": res.get("message"),
  "renditions": [(x["name"], x["frames"], x["klvUnits"], x["duration"]) for x in res.get("renditions", [])],
  "warnings": res.get("warnings"), "stderr": p.stderr[-300:] if p.returncode else ""}))
PY
    for pl in o-$clip-$hw/*/*.m3u8; do
      [ -f "$pl" ] || continue
      echo "validate $pl: $(./ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=width,height,pix_fmt,nb_read_frames -of csv=p=0 "$pl" 2>&1 | tr '\n' ' ')"
    done
  done
done
} > "$OUT/runs.txt" 2>&1
cat "$OUT/gpu.txt" "$OUT/caps.json" "$OUT/runs.txt"
