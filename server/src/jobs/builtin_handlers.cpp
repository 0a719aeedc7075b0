#include "jobs/builtin_handlers.hpp"

#include <boost/json.hpp>

#include "common/pause.hpp"

namespace market::jobs {
namespace {

namespace json = boost::json;

json::object PayloadObject(const JobContext& context) {
  boost::system::error_code ec;
  json::value value = json::parse(context.job.payload, ec);
  if (ec || !value.is_object()) throw PermanentFailure("the payload is not a JSON object");
  return std::move(value.as_object());
}

Task<void> Noop(JobContext&) { co_return; }

Task<void> Sleep(JobContext& context) {
  json::object payload = PayloadObject(context);
  const json::value* seconds = payload.if_contains("seconds");
  if (seconds == nullptr || !seconds->is_number()) throw PermanentFailure("seconds is required");
  const double value = seconds->to_number<double>();
  if (value < 0 || value > 3600) throw PermanentFailure("seconds must be 0 to 3600");
  co_await Pause(std::chrono::milliseconds(static_cast<std::int64_t>(value * 1000)));
}

Task<void> Fail(JobContext& context) {
  json::object payload = PayloadObject(context);
  std::string message = "debug.fail";
  if (const json::value* m = payload.if_contains("message"); m != nullptr && m->is_string()) {
    message = std::string(m->as_string());
  }
  const json::value* permanent = payload.if_contains("permanent");
  if (permanent != nullptr && permanent->is_bool() && permanent->as_bool()) {
    throw PermanentFailure(message);
  }
  throw std::runtime_error(message);
  co_return;
}

}  // namespace

void AddBuiltinHandlers(HandlerRegistry& registry) {
  registry.Add("noop", Noop);
  registry.Add("debug.sleep", Sleep);
  registry.Add("debug.fail", Fail);
}

}  // namespace market::jobs
