-- wrk script for bench/listings.sh: GET /api/v1/listings/{id} over many active listings (one id
-- per line in the file BENCH_IDS_FILE), picked at random per request, so that the run measures
-- the detail page and not one hot row.
local file = os.getenv("BENCH_IDS_FILE")
if file == nil or file == "" then
  error("BENCH_IDS_FILE is not set")
end

local ids = {}
for line in io.lines(file) do
  if line:match("^%d+$") then
    ids[#ids + 1] = line
  end
end
if #ids == 0 then
  error("no listing ids in " .. file)
end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

request = function()
  return wrk.format("GET", "/api/v1/listings/" .. ids[math.random(#ids)])
end
