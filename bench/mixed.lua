-- Mixed load for bench/soak: mostly valid requests, some that hiserve answers 4xx/5xx
-- and then closes, so wrk reconnects (connection churn). No HEAD: wrk's parser would
-- wait for a body. Usage: wrk ... -s bench/mixed.lua URL
local reqs
local calls = 0

init = function(args)
  local h = "Host: 127.0.0.1\r\n"
  local ok = "GET /hi?color=red HTTP/1.1\r\n" .. h .. "\r\n"
  reqs = {
    ok, ok, ok, ok, ok, ok, ok, ok,
    "GET /nope HTTP/1.1\r\n" .. h .. "\r\n",
    "GET /hi?color=%3Cb%3E HTTP/1.1\r\n" .. h .. "\r\n",
    "POST /hi HTTP/1.1\r\n" .. h .. "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\ncolor=blue",
    "POST /hi HTTP/1.1\r\n" .. h .. "Transfer-Encoding: chunked\r\n\r\n3\r\ncol\r\n7\r\nor=gree\r\n0\r\n\r\n",
    "GET /hi HTTP/1.1\r\n" .. h .. "Connection: close\r\n\r\n",
    "POST /hi HTTP/1.1\r\n" .. h .. "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET /hi HTTP/1.7\r\n" .. h .. "\r\n",
    "GET /hi HTTP/1.1\r\n" .. h .. "X-Big: " .. string.rep("a", 9000) .. "\r\n\r\n",
    "GET /hi HTTP/1.1\r\n\r\n",
  }
end

-- wrk checks the first request it gets with its own parser and exits on one it
-- rejects, so the first one is always valid.
request = function()
  calls = calls + 1
  if calls == 1 then return reqs[1] end
  return reqs[math.random(#reqs)]
end
