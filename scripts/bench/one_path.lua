-- wrk script for scripts/bench/storage.sh: GET BENCH_PATH with a bearer
-- token (BENCH_TOKEN). Prints one machine-readable line at the end, as
-- case_detail.lua does.
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local path = os.getenv("BENCH_PATH")

function request()
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout + e.status))
end
