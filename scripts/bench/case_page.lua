-- wrk script for scripts/bench_server.sh: GET /dossiers/{id}, the case page,
-- with the session cookie (the same token as the API's), the case drawn at
-- random among the BENCH_CASES seeded ones (ids as in seed.sql). Prints one
-- machine-readable line at the end.
local ncases = tonumber(os.getenv("BENCH_CASES"))
local headers = { ["Cookie"] = "dms_session=" .. os.getenv("BENCH_TOKEN") }
local threads = {}

function setup(thread)
  thread:set("seed", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
end

function request()
  local path = string.format("/dossiers/00000000-0000-4000-8000-%012d", math.random(1, ncases))
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
