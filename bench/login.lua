-- wrk script for bench/auth.sh: POST /api/v1/auth/login in a loop as the bench user
-- (BENCH_LOGIN, BENCH_PASSWORD: letters, digits and _ only, so no JSON escaping is needed).
local login = os.getenv("BENCH_LOGIN")
local password = os.getenv("BENCH_PASSWORD")
if login == nil or password == nil then
  error("BENCH_LOGIN and BENCH_PASSWORD must be set")
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"login":"%s","password":"%s"}', login, password)
