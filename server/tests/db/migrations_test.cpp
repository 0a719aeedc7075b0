// Migrate() against the real PostgreSQL, each test in a scratch database of its own so that
// schema_migrations starts empty.
#include "storage/pg/migrations.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "db/db_support.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"

namespace market {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pg::PgError;
using pg::Statement;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr Statement kRecorded{"test.migrations.recorded",
                              "SELECT name FROM schema_migrations ORDER BY name"};
constexpr Statement kTableExists{"test.migrations.table_exists",
                                 "SELECT to_regclass($1) IS NOT NULL AS present"};
constexpr Statement kCountRows{"test.migrations.count_log",
                               "SELECT count(*) AS n FROM applied_log"};
constexpr Statement kAdvisoryLocks{
    "test.migrations.advisory_locks",
    "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"};

Task<void> RunScript(pg::Pool& pool, std::string sql) {
  pg::PooledConnection conn = co_await pool.Acquire();
  co_await conn.ExecuteScript(sql);
}

std::vector<std::string> SqlFilesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".sql") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("market_migrations_" + RandomSuffix())) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  void Write(const std::string& name, const std::string& sql) const {
    std::ofstream(path_ / name, std::ios::binary | std::ios::trunc) << sql;
  }

 private:
  fs::path path_;
};

class PgMigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = "market_migrations_test_" + RandomSuffix();
    RunTask(io_, RunScript(admin_, "CREATE DATABASE " + database_ + " TEMPLATE template0"));
    scratch_url_ = AddConnParam(TestDatabaseUrl(), "dbname", database_);
  }
  void TearDown() override {
    RunTask(io_, RunScript(admin_, "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)"));
  }

  pg::PoolOptions Scratch() const {
    return pg::PoolOptions{.conninfo = scratch_url_, .max_size = 2};
  }

  std::vector<std::string> Recorded(pg::Pool& pool) {
    const pg::QueryResult rows = RunTask(io_, pool.Execute(kRecorded, {}));
    std::vector<std::string> names;
    for (int row = 0; row < rows.size(); ++row) names.push_back(rows.String(row, "name"));
    return names;
  }

  bool TableExists(pg::Pool& pool, const std::string& table) {
    return RunTask(io_, pool.Execute(kTableExists, pg::Params(table))).Bool(0, "present");
  }

  asio::io_context io_;
  pg::Pool admin_{io_.get_executor(),
                  pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 1}};
  std::string database_;
  std::string scratch_url_;
};

TEST_F(PgMigrationsTest, RealMigrationsApplyToAnEmptyDatabaseAndASecondRunAppliesNothing) {
  pg::Pool pool(io_.get_executor(), Scratch());
  const std::vector<std::string> files = SqlFilesIn(MigrationsDir());
  ASSERT_FALSE(files.empty());

  EXPECT_EQ(RunTask(io_, pg::Migrate(pool, MigrationsDir())), files);
  EXPECT_THAT(RunTask(io_, pg::Migrate(pool, MigrationsDir())), IsEmpty());
  EXPECT_EQ(Recorded(pool), files);
  EXPECT_TRUE(TableExists(pool, "users"));
}

TEST_F(PgMigrationsTest, TheSharedTestDatabaseIsMigratedAndASecondRunAppliesNothing) {
  pg::Pool pool(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 2});
  // Other suites may have migrated it already; either way it ends up with every file recorded.
  RunTask(io_, pg::Migrate(pool, MigrationsDir()));
  EXPECT_THAT(RunTask(io_, pg::Migrate(pool, MigrationsDir())), IsEmpty());
  const std::vector<std::string> recorded = Recorded(pool);
  for (const std::string& file : SqlFilesIn(MigrationsDir())) {
    EXPECT_THAT(recorded, ::testing::Contains(file));
  }
}

TEST_F(PgMigrationsTest, ABrokenMigrationLeavesNoTraceWhileEarlierOnesStay) {
  TempDir dir;
  dir.Write("0001_good.sql",
            "CREATE TABLE good_table (id int);\n"
            "INSERT INTO good_table VALUES (1);\n");
  dir.Write("0002_broken.sql",
            "CREATE TABLE broken_table (id int);\n"
            "INSERT INTO broken_table VALUES (1);\n"
            "INSERT INTO no_such_table VALUES (1);\n");
  dir.Write("0003_later.sql", "CREATE TABLE later_table (id int);\n");
  pg::Pool pool(io_.get_executor(), Scratch());

  try {
    RunTask(io_, pg::Migrate(pool, dir.path()));
    ADD_FAILURE() << "a broken migration was applied";
  } catch (const PgError& e) {
    EXPECT_THAT(e.what(), HasSubstr("0002_broken.sql"));
    EXPECT_EQ(e.sqlstate(), "42P01");
  }
  EXPECT_THAT(Recorded(pool), ElementsAre("0001_good.sql"));
  EXPECT_TRUE(TableExists(pool, "good_table"));
  EXPECT_FALSE(TableExists(pool, "broken_table"));
  EXPECT_FALSE(TableExists(pool, "later_table"));
  EXPECT_EQ(RunTask(io_, pool.Execute(kAdvisoryLocks, {})).Int(0, "n"), 0);

  // Once fixed, the rest applies.
  dir.Write("0002_broken.sql", "CREATE TABLE broken_table (id int);\n");
  EXPECT_THAT(RunTask(io_, pg::Migrate(pool, dir.path())),
              ElementsAre("0002_broken.sql", "0003_later.sql"));
  EXPECT_TRUE(TableExists(pool, "later_table"));
}

TEST_F(PgMigrationsTest, ConcurrentMigratorsApplyEachFileOnce) {
  TempDir dir;
  dir.Write("0001_log.sql",
            "CREATE TABLE applied_log (name text NOT NULL);\n"
            "INSERT INTO applied_log VALUES ('0001');\n");
  dir.Write("0002_second.sql", "INSERT INTO applied_log VALUES ('0002');\n");
  dir.Write("0003_third.sql",
            "CREATE TABLE third (id int);\n"
            "INSERT INTO applied_log VALUES ('0003');\n");
  pg::Pool first(io_.get_executor(), Scratch());
  pg::Pool second(io_.get_executor(), Scratch());

  int finished = 0;
  std::vector<std::string> applied;
  std::vector<std::string> failures;
  auto collect = [&](std::exception_ptr e, std::vector<std::string> names) {
    ++finished;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& error) {
        failures.push_back(error.what());
      }
    }
    applied.insert(applied.end(), names.begin(), names.end());
  };
  asio::co_spawn(io_, pg::Migrate(first, dir.path()), collect);
  asio::co_spawn(io_, pg::Migrate(second, dir.path()), collect);
  io_.restart();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (finished < 2 && io_.run_one_until(deadline) > 0) {
  }

  ASSERT_EQ(finished, 2);
  EXPECT_THAT(failures, IsEmpty());
  std::sort(applied.begin(), applied.end());
  EXPECT_THAT(applied, ElementsAre("0001_log.sql", "0002_second.sql", "0003_third.sql"));
  EXPECT_EQ(RunTask(io_, first.Execute(kCountRows, {})).Int(0, "n"), 3);
  EXPECT_THAT(Recorded(first), ElementsAre("0001_log.sql", "0002_second.sql", "0003_third.sql"));
}

TEST_F(PgMigrationsTest, AMissingDirectoryIsAnError) {
  pg::Pool pool(io_.get_executor(), Scratch());
  EXPECT_THROW(RunTask(io_, pg::Migrate(pool, "/nonexistent/market/migrations")),
               std::runtime_error);
}

}  // namespace
}  // namespace market
