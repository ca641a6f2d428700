-- wrk: GET one random case (or a random path of BENCH_PATHS, "|"-separated)
-- with a Bearer token. env: BENCH_TOKEN, BENCH_IDS ("first last") or BENCH_PATHS.
local token = os.getenv("BENCH_TOKEN")
local first, last
local paths = {}

function init(args)
	local ids = os.getenv("BENCH_IDS")
	if ids then
		first, last = ids:match("(%d+) (%d+)")
		first, last = tonumber(first), tonumber(last)
	end
	for p in (os.getenv("BENCH_PATHS") or ""):gmatch("[^|]+") do
		paths[#paths + 1] = p
	end
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
	local path
	if #paths > 0 then
		path = paths[math.random(#paths)]
	else
		path = "/api/v1/cases/" .. math.random(first, last)
	end
	local h = {}
	if token and token ~= "" then
		h["Authorization"] = "Bearer " .. token
	end
	return wrk.format("GET", path, h)
end
