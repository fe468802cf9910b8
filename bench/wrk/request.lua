-- Fixed requests for `wrk -s`: sends BENCH_METHOD to the URL's path with the headers in
-- BENCH_HEADERS ("Name: value" lines) and, round robin per thread, one body per line of
-- BENCH_BODIES_FILE (one line = the same body every time, e.g. the statusbadge seed body).
-- done() prints one `BENCH_RESULT {json}` line that bench/loadgen.py parses.

local method = os.getenv("BENCH_METHOD") or "POST"

local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local bodies = {}
local path = os.getenv("BENCH_BODIES_FILE")
if path and path ~= "" then
  for line in io.lines(path) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
end

local requests = {}

-- Built in init(), not at load time: wrk sets wrk.host (for the Host header) only after loading.
function init(args)
  if #bodies == 0 then
    requests[1] = wrk.format(method, nil, headers, nil)
  else
    for i, body in ipairs(bodies) do
      local h = {}
      for k, v in pairs(headers) do h[k] = v end
      requests[i] = wrk.format(method, nil, h, body)
    end
  end
end

local n = 0
function request()
  n = n % #requests + 1
  return requests[n]
end

dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/report.lua")
