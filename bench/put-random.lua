-- wrk script: PUT small objects with unique names, as ../shared/anchors/wrk-bench/put.lua, but
-- with a body of random bytes (one per wrk thread): put.lua's body is one letter repeated, which
-- a store that compresses (LevelDB's Snappy blocks) shrinks and a file does not.
-- env: SWIFT_TOKEN, SWIFT_PATH (e.g. /v1/AUTH_test/bench), OBJ_SIZE (bytes)
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  token = os.getenv("SWIFT_TOKEN")
  base = os.getenv("SWIFT_PATH")
  local size = tonumber(os.getenv("OBJ_SIZE") or "4096")
  math.randomseed(os.time() + tid)
  local bytes = {}
  for i = 1, size do bytes[i] = string.char(math.random(0, 255)) end
  body = table.concat(bytes)
  wrk.headers["X-Auth-Token"] = token
  wrk.headers["Content-Type"] = "application/octet-stream"
end
function request()
  counter = counter + 1
  return wrk.format("PUT", string.format("%s/o-%d-%d", base, tid, counter), nil, body)
end
function done(summary, latency, requests)
  local errs = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d errors=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, errs, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
