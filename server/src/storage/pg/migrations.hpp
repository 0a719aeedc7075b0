#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/task.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

// Applies every NNNN_name.sql in `dir` not yet recorded in schema_migrations, in name order, each
// in its own transaction together with its record, all under a session advisory lock so that
// concurrent migrators wait for each other. Returns the names applied by this call.
Task<std::vector<std::string>> Migrate(Pool& pool, const std::filesystem::path& dir);

}  // namespace market::pg
