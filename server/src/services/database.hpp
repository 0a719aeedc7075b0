#pragma once

#include <memory>

#include "common/task.hpp"

namespace market::services {

// A unit of work opened by a service and handed to repositories. Destroyed without Commit(), it
// rolls back.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Task<void> Commit() = 0;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Task<std::unique_ptr<Transaction>> Begin() = 0;
};

}  // namespace market::services
