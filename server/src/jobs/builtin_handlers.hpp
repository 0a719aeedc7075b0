#pragma once

#include "jobs/worker.hpp"

namespace market::jobs {

// Kinds every worker runs, for operating and testing the queue itself:
//   noop         does nothing;
//   debug.sleep  {"seconds": 0-3600} waits that long (a long job: heartbeats, SIGTERM, SIGKILL);
//   debug.fail   {"message": "...", "permanent": false} fails every attempt (retries, dead).
void AddBuiltinHandlers(HandlerRegistry& registry);

}  // namespace market::jobs
