-- wrk: POST /api/v1/cases as an API token (the sensor channel: routed, the
-- duplicate check on), at the centre of a random demo grid with that grid's
-- category. env: BENCH_TOKEN, BENCH_POINTS (the file bench_cases writes).
local points = {}
local token = os.getenv("BENCH_TOKEN")
local n = 0

function init(args)
	for line in io.lines(os.getenv("BENCH_POINTS")) do
		local lat, lon, cat = line:match("(%S+) (%S+) (%S+)")
		points[#points + 1] = { tonumber(lat), tonumber(lon), cat }
	end
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
	local p = points[math.random(#points)]
	n = n + 1
	-- within ~50 m of the centre: inside the grid, near earlier reports
	local lat = p[1] + (math.random() - 0.5) * 0.0009
	local lon = p[2] + (math.random() - 0.5) * 0.0009
	local body = string.format(
		'{"category_id":%s,"title":"传感器告警","description":"设备自动上报 %d",' ..
			'"lat":%.7f,"lon":%.7f}', p[3], n, lat, lon)
	return wrk.format("POST", "/api/v1/cases", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. token,
	}, body)
end
