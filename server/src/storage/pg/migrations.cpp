#include "storage/pg/migrations.hpp"
#include "storage/pg/params.hpp"

#include <algorithm>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace market::pg {
namespace {

namespace fs = std::filesystem;

// The key is the bytes "mkt:migr": one lock shared by every migrator of every version.
constexpr Statement kLock{"market_migrations_lock", "SELECT pg_advisory_lock(7884523366934734706)"};
constexpr Statement kUnlock{"market_migrations_unlock",
                            "SELECT pg_advisory_unlock(7884523366934734706)"};
constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name text PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
constexpr Statement kApplied{"market_migrations_applied", "SELECT name FROM schema_migrations"};
constexpr Statement kRecord{"market_migrations_record",
                            "INSERT INTO schema_migrations (name) VALUES ($1)"};

std::vector<fs::path> MigrationFiles(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("migrations directory not found: " + dir.string());
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return text.str();
}

// The script and its record commit together or not at all.
Task<void> Apply(PooledConnection& conn, const fs::path& file, const std::string& name) {
  std::exception_ptr failure;
  try {
    const std::string sql = ReadFile(file);
    co_await conn.ExecuteScript("BEGIN");
    co_await conn.ExecuteScript(sql);
    // Named: g++ 12 rejects a braced list inside a co_await expression.
    std::vector<Param> record{ToParam(name)};
    co_await conn.Execute(kRecord, std::move(record));
    co_await conn.ExecuteScript("COMMIT");
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return;
  try {
    co_await conn.ExecuteScript("ROLLBACK");
  } catch (...) {
    // The connection is gone, and the transaction with it.
  }
  try {
    std::rethrow_exception(failure);
  } catch (const PgError& e) {
    throw PgError("migration " + name + " failed: " + e.what(), e.sqlstate(), e.constraint(),
                  e.connection_lost());
  } catch (const std::exception& e) {
    throw std::runtime_error("migration " + name + " failed: " + e.what());
  }
}

}  // namespace

Task<std::vector<std::string>> Migrate(Pool& pool, const fs::path& dir) {
  const std::vector<fs::path> files = MigrationFiles(dir);
  PooledConnection conn = co_await pool.Acquire();
  // A migration may rewrite a large table, and another migrator may hold the lock as long.
  co_await conn.ExecuteScript("SET statement_timeout = 0");
  co_await conn.Execute(kLock, NoParams());

  std::vector<std::string> applied;
  std::exception_ptr failure;
  try {
    co_await conn.ExecuteScript(kCreateTable);
    const QueryResult recorded = co_await conn.Execute(kApplied, NoParams());
    std::set<std::string, std::less<>> done;
    for (int row = 0; row < recorded.size(); ++row) done.insert(recorded.String(row, "name"));
    for (const fs::path& file : files) {
      std::string name = file.filename().string();
      if (done.contains(name)) continue;
      co_await Apply(conn, file, name);
      applied.push_back(std::move(name));
    }
  } catch (...) {
    failure = std::current_exception();
  }

  std::exception_ptr cleanup_failure;
  try {
    co_await conn.Execute(kUnlock, NoParams());
    co_await conn.ExecuteScript("RESET statement_timeout");
  } catch (...) {
    // Only a lost connection fails here, and the server released the session's lock with it.
    cleanup_failure = std::current_exception();
  }
  if (failure) std::rethrow_exception(failure);
  if (cleanup_failure) std::rethrow_exception(cleanup_failure);
  co_return applied;
}

}  // namespace market::pg
