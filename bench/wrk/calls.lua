-- wrk script for call-sample ingest: POST /api/v1/calls with a JSON array of
-- BATCH call samples (env BATCH, default 100; env AUTH_TOKEN, if set, adds
-- `Authorization: Bearer <token>`).
--
--   BATCH=1000 wrk -t2 -c64 -d10s -s bench/wrk/calls.lua http://127.0.0.1:PORT/api/v1/calls
--
-- The body is built once when the script loads (one Lua state per wrk thread,
-- plus the one that runs done()), never per request, and it is deterministic:
-- every run and every target gets byte-for-byte the same request. No request()
-- and no response() function is defined, so wrk sends its pre-formatted static
-- request and does not hand responses to Lua: the script costs nothing per
-- request, whichever target it runs against.
--
-- done() prints one machine-readable line:
--   RESULT requests_per_s=N bytes_per_s=N samples_per_s=N p99_ms=N non2xx=N
--          errors=N batch=N request_bytes=N resp_bytes_per_s=N
-- bytes_per_s   request bytes sent per second (HTTP head + body), i.e. ingest volume
-- samples_per_s requests_per_s * BATCH
-- non2xx        responses with status > 399 (wrk's own counter, summary.errors.status;
--               none of the targets answers 1xx/3xx, so this is exactly the non-2xx count
--               without the cost of a Lua response() callback)
-- errors        socket errors: connect + read + write + timeout

local batch = tonumber(os.getenv("BATCH") or "") or 100
if batch < 1 then batch = 100 end
batch = math.floor(batch)

local services = {
  { name = "stripe",   cost = 0.0004,
    endpoints = { "/v1/charges", "/v1/payment_intents", "/v1/customers" },
    base_ms = 180 },
  { name = "twilio",   cost = 0.0079,
    endpoints = { "/2010-04-01/Accounts/AC0001/Messages.json", "/2010-04-01/Accounts/AC0001/Calls.json" },
    base_ms = 240 },
  { name = "sendgrid", cost = 0.0010,
    endpoints = { "/v3/mail/send", "/v3/templates" },
    base_ms = 120 },
  { name = "samsara",  cost = 0.0,
    endpoints = { "/fleet/vehicles/locations", "/fleet/vehicles/stats", "/fleet/drivers" },
    base_ms = 90 },
  { name = "maps",     cost = 0.005,
    endpoints = { "/maps/api/directions/json", "/maps/api/distancematrix/json", "/maps/api/geocode/json" },
    base_ms = 70 },
  { name = "airtable", cost = 0.0,
    endpoints = { "/v0/appWaste01/Pickups", "/v0/appWaste01/Routes" },
    base_ms = 210 },
}

-- Deterministic pseudo-random numbers (Park-Miller), the same in every state.
local seed = 20240601
local function rnd(n) -- integer in [0, n)
  seed = (seed * 16807) % 2147483647
  return seed % n
end

local function sample(i)
  local svc = services[(i - 1) % #services + 1]
  local endpoint = svc.endpoints[rnd(#svc.endpoints) + 1]
  local roll = rnd(100)
  local status, latency
  -- 90 % ok, 4 % rate limited, 3 % server errors, 3 % timeouts.
  if roll < 90 then
    status = "200"
    latency = svc.base_ms * (0.5 + rnd(1000) / 1000) + rnd(10) / 10
    if rnd(20) == 0 then latency = latency * 6 end -- a slow tail
  elseif roll < 94 then
    status = "429"
    latency = 5 + rnd(400) / 10
  elseif roll < 97 then
    status = "500"
    latency = svc.base_ms * (1 + rnd(2000) / 1000)
  else
    status = '"timeout"'
    latency = 30000
  end
  local cache_hit = (svc.name == "maps" and rnd(10) < 3) and "true" or "false"
  local cost = (status == "200" or status == "500") and svc.cost or 0.0
  return string.format(
    '{"service":"%s","endpoint":"%s","latencyMs":%.1f,"status":%s,"costUsd":%.4f,"cacheHit":%s}',
    svc.name, endpoint, latency, status, cost, cache_hit)
end

local samples = {}
for i = 1, batch do samples[i] = sample(i) end
local body = "[" .. table.concat(samples, ",") .. "]"

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
-- If the node's ingest route wants a bearer token, every target gets the same header.
local token = os.getenv("AUTH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local rps = summary.requests / seconds
  -- What wrk sends each time, head + body. wrk.init() adds Host in the worker
  -- states only; add it here the same way so the count is exact.
  if not wrk.headers["Host"] then
    local host = wrk.host:find(":") and ("[" .. wrk.host .. "]") or wrk.host
    wrk.headers["Host"] = wrk.port and (host .. ":" .. wrk.port) or host
  end
  local request_bytes = #wrk.format()
  local e = summary.errors
  io.write(string.format(
    "RESULT requests_per_s=%.1f bytes_per_s=%.0f samples_per_s=%.0f p99_ms=%.3f non2xx=%d" ..
    " errors=%d batch=%d request_bytes=%d resp_bytes_per_s=%.0f\n",
    rps, rps * request_bytes, rps * batch, latency:percentile(99.0) / 1000, e.status,
    e.connect + e.read + e.write + e.timeout, batch, request_bytes, summary.bytes / seconds))
end
