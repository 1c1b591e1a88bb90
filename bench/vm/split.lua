-- Benchmark split, the same algorithm as genesis/contracts/proportional_split.olasm:
-- owner share, validators' share, each entry's share * weight // total with
-- a payout and a log per paid entry, then the remainder to the owner. Payouts
-- move balances in a table (checked against the contract's balance) and are
-- recorded as events, as the VM's host does.
-- Usage: lua5.4 split.lua ENTRIES REPS -> prints "paid_to_contributors us_per_split".
local n = math.tointeger(tonumber(arg[1] or "1000"))
local reps = math.tointeger(tonumber(arg[2] or "1000"))

local self = string.rep("\xc0", 20)
local rec = {
  id = 77, fee = 1000000000000, owner_bp = 1000, validators_bp = 500, contributors_bp = 8500,
  owner = string.rep("\x0a", 20), validators = string.rep("\x0b", 20), entries = {},
}
for i = 1, n do
  rec.entries[i] = { id = i - 1, addr = string.format("%020d", 100 + i - 1), weight = i }
end

local function settle(r, balances, events)
  local function pay(to, amount)
    if amount == 0 then return end
    local have = balances[self] or 0
    if have < amount then error("pay over balance") end
    balances[self] = have - amount
    balances[to] = (balances[to] or 0) + amount
    events[#events + 1] = { kind = "pay", to = to, amount = amount }
  end
  if r.owner_bp + r.validators_bp + r.contributors_bp ~= 10000 then
    error("split does not add up to 10000 basis points")
  end
  local fee = r.fee
  local owner_share = fee * r.owner_bp // 10000
  local val_share = fee * r.validators_bp // 10000
  local share = fee * r.contributors_bp // 10000
  pay(r.owner, owner_share)
  pay(r.validators, val_share)
  local entries = r.entries
  local total = 0
  for i = 1, #entries do
    local t = total + entries[i].weight
    if math.ult(t, total) then error("total weight does not fit in 64 bits") end
    total = t
  end
  local paid = 0
  if total > 0 then
    for i = 1, #entries do
      local e = entries[i]
      local amount = share * e.weight // total
      if amount > 0 then
        paid = paid + amount
        pay(e.addr, amount)
        events[#events + 1] = { kind = "log", record = r.id, contribution = e.id, amount = amount }
      end
    end
  end
  pay(r.owner, fee - owner_share - val_share - paid)
  return paid
end

local balances = {}
local paid = 0
local t0 = os.clock()
for _ = 1, reps do
  balances[self] = rec.fee
  paid = settle(rec, balances, {})
end
local t1 = os.clock()
print(paid, string.format("%.3f", (t1 - t0) / reps * 1e6))
