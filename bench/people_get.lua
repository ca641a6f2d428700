-- wrk: GET /api/v1/basedata/people?id_number=... for a random ID number of
-- BENCH_ID_FILE (one per line; bench_basedata writes them), with a Bearer
-- token. env: BENCH_TOKEN, BENCH_ID_FILE.
local token = os.getenv("BENCH_TOKEN")
local ids = {}

function init(args)
	for line in io.lines(os.getenv("BENCH_ID_FILE")) do
		ids[#ids + 1] = line
	end
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
	local h = {}
	if token and token ~= "" then
		h["Authorization"] = "Bearer " .. token
	end
	return wrk.format("GET", "/api/v1/basedata/people?id_number=" .. ids[math.random(#ids)], h)
end

