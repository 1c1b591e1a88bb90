-- Benchmark loop, the same computation as bench/vm/loop.olasm:
-- s = (s + i*7) % 1000003 for i = 0 .. n-1 (integer arithmetic).
-- Usage: lua5.4 loop.lua N   -> prints "s seconds" (CPU time of the loop).
local n = math.tointeger(tonumber(arg[1] or "100000000"))
local t0 = os.clock()
local s = 0
for i = 0, n - 1 do
  s = (s + i * 7) % 1000003
end
local t1 = os.clock()
print(s, string.format("%.6f", t1 - t0))
