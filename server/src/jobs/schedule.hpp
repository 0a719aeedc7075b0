#pragma once

#include <vector>

#include "jobs/scheduler.hpp"

namespace market::jobs {

// The periodic jobs of the marketplace, all in one table (jobs/schedule.cpp). A kind needs a
// handler registered with the workers to run; until then its jobs wait in the queue.
std::vector<ScheduledJob> MarketplaceSchedule();

}  // namespace market::jobs
