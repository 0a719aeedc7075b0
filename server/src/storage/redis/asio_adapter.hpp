#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

struct redisAsyncContext;

namespace market::redis {

// Drives one hiredis async context from an Asio executor: hiredis says which readiness it wants
// (addRead/addWrite/…), the adapter waits for it on the context's socket and calls
// redisAsyncHandleRead/Write. Everything runs on the executor's thread.
//
// hiredis owns both the socket and the adapter's registration: the adapter keeps itself alive
// until hiredis calls its cleanup hook (when the context is freed, possibly from inside a
// callback), and waits that complete after that find context() == nullptr and do nothing.
class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
 public:
  // Installs the adapter's hooks on `context`, which must not have an event library yet. Throws
  // boost::system::system_error if the socket cannot be registered; the context is then left
  // without hooks and the caller frees it.
  static std::shared_ptr<AsioAdapter> Attach(boost::asio::any_io_executor executor,
                                             redisAsyncContext* context);

  AsioAdapter(boost::asio::any_io_executor executor, redisAsyncContext* context);
  ~AsioAdapter();
  AsioAdapter(const AsioAdapter&) = delete;
  AsioAdapter& operator=(const AsioAdapter&) = delete;

  // The hiredis context, or nullptr once hiredis has freed it.
  redisAsyncContext* context() const { return context_; }

 private:
  static void AddRead(void* data);
  static void DelRead(void* data);
  static void AddWrite(void* data);
  static void DelWrite(void* data);
  static void Cleanup(void* data);

  void ArmRead();
  void ArmWrite();

  redisAsyncContext* context_;
  boost::asio::posix::stream_descriptor socket_;
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_armed_ = false;
  bool write_armed_ = false;
  // hiredis' reference to the adapter, dropped by Cleanup.
  std::shared_ptr<AsioAdapter> self_;
};

}  // namespace market::redis
