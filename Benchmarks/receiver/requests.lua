-- wrk script: each thread sends its own slice of the pre-signed deliveries in make_requests.py's
-- file, pre-formatted in init() so the load generator does no work per request but a table read.
local file = os.getenv("BENCH_REQUESTS")
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  requests = {}
  local n = 0
  for line in io.lines(file) do
    if n >= offset and n % threads == index then
      local path, headerText, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      for header in headerText:gmatch("[^\31]+") do
        local name, value = header:match("^([^:]+): (.*)$")
        headers[name] = value
      end
      requests[#requests + 1] = wrk.format("POST", path, headers, body)
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then position = 1 end
  return requests[position]
end
