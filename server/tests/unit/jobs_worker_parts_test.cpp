// The pure parts of the job queue: kind names, the handler registry, status names and the
// metrics' text format.
#include <gtest/gtest.h>

#include "jobs/builtin_handlers.hpp"
#include "jobs/metrics.hpp"
#include "jobs/worker.hpp"
#include "services/jobs/job_queue.hpp"

namespace market::jobs {
namespace {

using namespace std::chrono_literals;

Task<void> Nothing(JobContext&) { co_return; }

TEST(JobKinds, AcceptsPlainDottedNames) {
  EXPECT_TRUE(services::IsValidJobKind("noop"));
  EXPECT_TRUE(services::IsValidJobKind("expire_orders"));
  EXPECT_TRUE(services::IsValidJobKind("debug.sleep"));
  EXPECT_TRUE(services::IsValidJobKind("webhooks:deliver-2"));
  EXPECT_TRUE(services::IsValidJobKind(std::string(100, 'a')));
}

TEST(JobKinds, RefusesEmptyLongOrOddNames) {
  EXPECT_FALSE(services::IsValidJobKind(""));
  EXPECT_FALSE(services::IsValidJobKind(std::string(101, 'a')));
  EXPECT_FALSE(services::IsValidJobKind("Noop"));
  EXPECT_FALSE(services::IsValidJobKind(".hidden"));
  EXPECT_FALSE(services::IsValidJobKind("has space"));
  EXPECT_FALSE(services::IsValidJobKind("quote\""));
  EXPECT_FALSE(services::IsValidJobKind("comma,separated"));
}

TEST(JobStatuses, NamesRoundTrip) {
  for (auto status : {services::JobStatus::kQueued, services::JobStatus::kRunning,
                      services::JobStatus::kSucceeded, services::JobStatus::kDead}) {
    EXPECT_EQ(services::ParseJobStatus(services::JobStatusName(status)), status);
  }
  EXPECT_FALSE(services::ParseJobStatus("failed"));
  EXPECT_FALSE(services::ParseJobStatus(""));
}

TEST(HandlerRegistry, FindsRegisteredKindsOnly) {
  HandlerRegistry registry;
  registry.Add("b.kind", Nothing);
  registry.Add("a.kind", Nothing);
  EXPECT_NE(registry.Find("a.kind"), nullptr);
  EXPECT_EQ(registry.Find("c.kind"), nullptr);
  EXPECT_EQ(registry.Kinds(), (std::vector<std::string>{"a.kind", "b.kind"}));
}

TEST(HandlerRegistry, RefusesInvalidAndDuplicateKinds) {
  HandlerRegistry registry;
  registry.Add("noop", Nothing);
  EXPECT_THROW(registry.Add("noop", Nothing), std::invalid_argument);
  EXPECT_THROW(registry.Add("Bad Kind", Nothing), std::invalid_argument);
  EXPECT_THROW(registry.Add("", Nothing), std::invalid_argument);
}

TEST(HandlerRegistry, BuiltinKindsAreRegistered) {
  HandlerRegistry registry;
  AddBuiltinHandlers(registry);
  EXPECT_EQ(registry.Kinds(), (std::vector<std::string>{"debug.fail", "debug.sleep", "noop"}));
}

TEST(JobMetrics, CountsOutcomesAndRunningPerKind) {
  JobMetrics metrics;
  metrics.Started("noop", 20ms);
  metrics.Started("noop", 3s);
  EXPECT_EQ(metrics.running("noop"), 2);
  metrics.Finished("noop", JobMetrics::Ended::kSucceeded, 1ms);
  metrics.Finished("noop", JobMetrics::Ended::kFailed, 1ms);
  metrics.Buried("other");
  EXPECT_EQ(metrics.running("noop"), 0);
  EXPECT_EQ(metrics.count("noop", JobMetrics::Ended::kSucceeded), 1u);
  EXPECT_EQ(metrics.count("noop", JobMetrics::Ended::kFailed), 1u);
  EXPECT_EQ(metrics.count("other", JobMetrics::Ended::kDead), 1u);
  EXPECT_EQ(metrics.count("unknown", JobMetrics::Ended::kDead), 0u);
}

TEST(JobMetrics, RendersPrometheusText) {
  JobMetrics metrics;
  metrics.Started("noop", 20ms);
  metrics.Started("noop", 3s);
  metrics.Finished("noop", JobMetrics::Ended::kSucceeded, 1ms);
  std::vector<services::JobCount> counts = {
      {.kind = "noop",
       .status = services::JobStatus::kQueued,
       .count = 7,
       .oldest_due_wait = 1500ms},
      {.kind = "noop", .status = services::JobStatus::kDead, .count = 2}};
  std::string text = metrics.Render(counts);
  EXPECT_NE(text.find("jobs_running{kind=\"noop\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("jobs_attempts_total{kind=\"noop\",outcome=\"succeeded\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("jobs_queue_latency_seconds_bucket{kind=\"noop\",le=\"0.05\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("jobs_queue_latency_seconds_count{kind=\"noop\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("jobs_queue_depth{kind=\"noop\",status=\"queued\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("jobs_queue_depth{kind=\"noop\",status=\"dead\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("jobs_oldest_due_seconds{kind=\"noop\"} 1.500\n"), std::string::npos);
}

}  // namespace
}  // namespace market::jobs
