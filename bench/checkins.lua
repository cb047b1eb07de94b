-- wrk driver for bench/checkins.py: one wrk thread = one kiosk with one keep-alive connection.
-- Each kiosk reads its token and its own tickets from DIR/kiosk_<n>.txt (first line the token),
-- scans them in order with a fresh scan_id each, and counts the answers by `result`.
-- bench/checkins.py writes the files, runs `wrk -t K -c K -s bench/checkins.lua URL -- DIR`
-- and parses the JSON line printed by done().

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("n", counter)
  table.insert(threads, thread)
end

function init(args)
  local dir = args[1]
  run = args[2] -- a tag per wrk run: scan ids are unique per kiosk for ever, replays answer the first

  local file = assert(io.open(string.format("%s/kiosk_%d.txt", dir, n), "r"))
  token = file:read("*l")
  codes = {}
  for line in file:lines() do
    codes[#codes + 1] = line
  end
  file:close()
  next_code = 1
  scans = 0
  results = {}
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
end

function request()
  local code = codes[next_code] or codes[#codes] -- out of tickets: rescans the last (answers "already")
  next_code = next_code + 1
  scans = scans + 1
  local body = string.format('{"code":"%s","scan_id":"%s-%03d-%08d"}', code, run, n, scans)
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  local result = body:match('"result":%s*"([%w_]+)"') or ("http_" .. status)
  results[result] = (results[result] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local r = thread:get("results")
    for k, v in pairs(r) do
      totals[k] = (totals[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(totals) do
    parts[#parts + 1] = string.format('"%s":%d', k, v)
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"seconds":%.3f,"errors":%d,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"results":{%s}}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, table.concat(parts, ",")))
end
