-- wrk script for POST /api/v1/geo/validate: bearer token from the environment (BENCH_TOKEN), a
-- body rotating through addresses that take each path of the offline geocoder: an exact city,
-- a whole-word prefix, a misspelling (a scan of the country), a city of another country and a
-- made-up one (a scan plus the look elsewhere).
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
local bodies = {
  '{"recipient_name":"Ada","line1":"1 Main St","city":"Springfield","region":"IL","postal_code":"62701","country":"US"}',
  '{"recipient_name":"Ada","line1":"1 High St","city":"manchester","postal_code":"M1 1AE","country":"GB"}',
  '{"recipient_name":"Ada","line1":"Domplatz 1","city":"Koln","postal_code":"50667","country":"DE"}',
  '{"recipient_name":"Ada","line1":"Rua Direita 10","city":"Sao Paolo","postal_code":"01002000","country":"BR"}',
  '{"recipient_name":"Ada","line1":"1-1 Umeda","city":"Osaka","postal_code":"5300001","country":"JP"}',
  '{"recipient_name":"Ada","line1":"1 Rue Notre-Dame","city":"Montreal","postal_code":"H2Y1C6","country":"CA"}',
  '{"recipient_name":"Ada","line1":"5th Avenue 1","city":"New York","postal_code":"10001","country":"US"}',
  '{"recipient_name":"Ada","line1":"1 Main St","city":"Toronto","country":"DE"}',
  '{"recipient_name":"Ada","line1":"1 Main St","city":"Qwxzplorbville","country":"US"}',
}
local i = 0

request = function()
  i = i + 1
  local body = bodies[(i % #bodies) + 1]
  return wrk.format("POST", "/api/v1/geo/validate", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
