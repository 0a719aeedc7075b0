-- wrk script for bench/auth.sh: GET with the bench user's access token (BENCH_TOKEN).
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
