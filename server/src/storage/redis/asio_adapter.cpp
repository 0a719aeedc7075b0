#include "storage/redis/asio_adapter.hpp"

#include <utility>

#include <hiredis/async.h>

namespace market::redis {

namespace asio = boost::asio;

std::shared_ptr<AsioAdapter> AsioAdapter::Attach(asio::any_io_executor executor,
                                                 redisAsyncContext* context) {
  auto adapter = std::make_shared<AsioAdapter>(std::move(executor), context);
  adapter->self_ = adapter;
  context->ev.data = adapter.get();
  context->ev.addRead = &AsioAdapter::AddRead;
  context->ev.delRead = &AsioAdapter::DelRead;
  context->ev.addWrite = &AsioAdapter::AddWrite;
  context->ev.delWrite = &AsioAdapter::DelWrite;
  context->ev.cleanup = &AsioAdapter::Cleanup;
  return adapter;
}

AsioAdapter::AsioAdapter(asio::any_io_executor executor, redisAsyncContext* context)
    : context_(context), socket_(std::move(executor), context->c.fd) {}

AsioAdapter::~AsioAdapter() {
  // hiredis closes the socket; the descriptor must never close it a second time.
  if (socket_.is_open()) socket_.release();
}

void AsioAdapter::AddRead(void* data) {
  auto* adapter = static_cast<AsioAdapter*>(data);
  adapter->want_read_ = true;
  adapter->ArmRead();
}

void AsioAdapter::DelRead(void* data) { static_cast<AsioAdapter*>(data)->want_read_ = false; }

void AsioAdapter::AddWrite(void* data) {
  auto* adapter = static_cast<AsioAdapter*>(data);
  adapter->want_write_ = true;
  adapter->ArmWrite();
}

void AsioAdapter::DelWrite(void* data) { static_cast<AsioAdapter*>(data)->want_write_ = false; }

void AsioAdapter::Cleanup(void* data) {
  auto* adapter = static_cast<AsioAdapter*>(data);
  adapter->context_ = nullptr;
  adapter->want_read_ = false;
  adapter->want_write_ = false;
  // Cancels the pending waits (they still hold the adapter and will see context_ == nullptr)
  // and leaves the descriptor to hiredis, which closes it right after this hook.
  adapter->socket_.release();
  // May destroy the adapter: nothing may touch it after this line.
  auto last_reference = std::move(adapter->self_);
}

// A wait that is no longer wanted stays pending rather than being cancelled: cancelling would
// cancel the other direction's wait too, and a spurious redisAsyncHandleRead/Write is harmless
// (hiredis treats EAGAIN as "nothing yet"). Arming a wait re-checks readiness (Asio re-arms the
// epoll registration), so data left in the socket after hiredis' single read() is not missed.
void AsioAdapter::ArmRead() {
  if (read_armed_ || !want_read_ || context_ == nullptr) return;
  read_armed_ = true;
  auto on_ready = [self = shared_from_this()](const boost::system::error_code&) {
    self->read_armed_ = false;
    if (self->context_ == nullptr || !self->want_read_) return;
    redisAsyncHandleRead(self->context_);
    self->ArmRead();
  };
  socket_.async_wait(asio::posix::stream_descriptor::wait_read, std::move(on_ready));
}

void AsioAdapter::ArmWrite() {
  if (write_armed_ || !want_write_ || context_ == nullptr) return;
  write_armed_ = true;
  auto on_ready = [self = shared_from_this()](const boost::system::error_code&) {
    self->write_armed_ = false;
    if (self->context_ == nullptr || !self->want_write_) return;
    redisAsyncHandleWrite(self->context_);
    self->ArmWrite();
  };
  socket_.async_wait(asio::posix::stream_descriptor::wait_write, std::move(on_ready));
}

}  // namespace market::redis
