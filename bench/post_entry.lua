-- wrk script for `make bench`: POST the DESIGN §6 entry, a fresh Idempotency-Key per request.
--
-- Arguments (after `--`): a token unique to the run and round, the API key ("" for none), and
-- optionally a batch size N: then each request posts N copies of the entry to the batch
-- endpoint ({"entries": [...]}, the URL given to wrk ending in /entries/batch).
-- The key is the token, the thread's number and a per-thread counter, so no two requests of
-- one run share it. 2xx answers are counted apart from the rest; `done` prints one line,
-- "BENCH key=value ...", that bench/posting.py reads, and the first refused answer if any.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or "bench"
  counter, ok, bad, first_bad = 0, 0, 0, ""
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  local entry = '{"journal": "VE", "date": "2026-11-23", "label": "Facture F-2026-001", '
    .. '"reference": "F-2026-001", "lines": ['
    .. '{"account": "411000", "debit": "120.00", "label": "Client Dupont"}, '
    .. '{"account": "706000", "credit": "100.00"}, '
    .. '{"account": "445710", "credit": "20.00"}]}'
  local batch = tonumber(args[3] or "0")
  if batch > 0 then
    local entries = {}
    for i = 1, batch do
      entries[i] = entry
    end
    wrk.body = '{"entries": [' .. table.concat(entries, ", ") .. ']}'
  else
    wrk.body = entry
  end
end

function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = token .. "-" .. tid .. "-" .. counter
  return wrk.format()
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    if sample == "" then
      sample = thread:get("first_bad")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH ok=%d bad=%d requests=%d duration_us=%d p50_us=%d p99_us=%d "
      .. "connect=%d read=%d write=%d timeout=%d\n",
    total_ok, total_bad, summary.requests, summary.duration,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
    e.connect, e.read, e.write, e.timeout))
  if sample ~= "" then
    io.write("BENCH_FIRST_REFUSED " .. string.gsub(sample, "\n", " ") .. "\n")
  end
end
