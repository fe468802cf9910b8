-- Creates BENCH_LIMIT distinct things (statusbadge servers, PlayWave sessions): each request sends
-- BENCH_BODY_TEMPLATE with {{UUID}} replaced by a fresh uuid4-shaped id and {{DIGITS}} by a fresh
-- decimal id, both unique per run (BENCH_NONCE), per thread and per request.
-- wrk has no request-count limit, so each thread stops making new ids after its share, sends only
-- a cheap GET BENCH_IDLE_PATH from then on, and writes BENCH_DONE_DIR/<thread> so that the harness
-- can stop wrk (SIGINT) at once; wrk's -d is the time bound. The harness then counts what exists.

local method = os.getenv("BENCH_METHOD") or "POST"
local template = os.getenv("BENCH_BODY_TEMPLATE") or ""
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local nonce = os.getenv("BENCH_NONCE") or "00000000"
local nonce_digits = tonumber(os.getenv("BENCH_NONCE_DIGITS") or "0")
local idle_path = os.getenv("BENCH_IDLE_PATH") or "/"
local done_dir = os.getenv("BENCH_DONE_DIR")

local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local counter = 0
local ids = 0
local tid = 0
local quota = 0
local idle_request = nil
local reported = false

local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  quota = math.floor(limit / threads)
  if tid <= limit % threads then quota = quota + 1 end
  -- wrk calls request() once on its first thread to check the script and never sends that one.
  if tid == 1 then quota = quota + 1 end
  idle_request = wrk.format("GET", idle_path, {}, nil)
end

local function mark_done()
  if reported or not done_dir then return end
  reported = true
  local f = io.open(done_dir .. "/" .. tid, "w")
  if f then f:write(tostring(tid == 1 and ids - 1 or ids)) f:close() end
end

function request()
  if ids >= quota then
    mark_done()
    return idle_request
  end
  ids = ids + 1
  local uuid = string.format("%s-%04x-4%03x-8%03x-%012x", nonce, tid, 0, 0, ids)
  local digits = string.format("%d%02d%08d", nonce_digits, tid, ids)
  local body = template:gsub("{{UUID}}", uuid):gsub("{{DIGITS}}", digits)
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  return wrk.format(method, nil, h, body)
end

dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/report.lua")
