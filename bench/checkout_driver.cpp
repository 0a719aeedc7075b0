// Load driver of bench/checkout.sh: K virtual buyers, each looping through whole checkouts
// against a marketplace server on 127.0.0.1, on one thread (one io_context, C++20 coroutines,
// Boost.Beast, one keep-alive connection per buyer).
//
// A checkout, as the web app does it:
//   1. PUT  /api/v1/cart/items/{listing}                       {"quantity":1}         -> 200
//   2. POST /api/v1/orders  (Idempotency-Key)                  {"shipping_address":…} -> 201
//   3. POST /api/v1/orders/{id}/payment                                               -> 200
//   4. POST /api/v1/payments/local/intents/{intent}/confirm    {client_secret, card…} -> 200
//   5. GET  /api/v1/orders/{id} until "status":"paid" (the gateway's signed webhook has landed)
// It is completed when step 5 sees it paid. Every request's latency is recorded (exact
// percentiles: all samples are kept), with the time from the confirm answer to "paid" seen.
//
//   checkout_driver --port P --tokens FILE --listings FILE [options]
//     --tokens FILE      one access token per line: one virtual buyer each (--buyers of them)
//     --listings FILE    listing ids, one per line: each checkout picks one at random
//     --buyers K         virtual buyers (default: one per token)
//     --warmup S         seconds before the measured window (default 3)
//     --duration S       seconds of the measured window (default 20); no checkout starts after
//     --stop-on-sold-out a 409 on the cart or the order means sold out: that buyer stops
//     --poll-ms MS       first wait before polling the order (default 2; doubles, at most 16)
//     --label NAME       printed with the results
// It prints a report and a last line "RESULT key=value …" for the script. Traffic goes only to
// 127.0.0.1.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
template <class T>
using Awaitable = asio::awaitable<T>;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::chrono::seconds kRequestTimeout{10};
constexpr std::chrono::seconds kPaidTimeout{10};
constexpr std::chrono::milliseconds kMaxPollWait{16};

enum Step { kCart, kOrder, kPay, kConfirm, kPoll, kConfirmToPaid, kCheckout, kStepCount };
constexpr std::array<const char*, kStepCount> kStepNames = {
    "cart PUT",         "order POST",         "payment POST",  "confirm POST",
    "order GET (poll)", "confirm->paid seen", "checkout (1-5)"};
constexpr std::array<const char*, kStepCount> kStepKeys = {"cart", "order",   "pay",     "confirm",
                                                           "poll", "to_paid", "checkout"};

struct Options {
  std::uint16_t port = 0;
  std::string tokens_file;
  std::string listings_file;
  int buyers = 0;
  double warmup = 3;
  double duration = 20;
  bool stop_on_sold_out = false;
  int poll_ms = 2;
  std::string label = "checkout";
};

struct Sample {
  double at;  // seconds since the run began, when the measured thing began
  double ms;
};

struct Shared {
  Options options;
  tcp::endpoint endpoint;
  std::vector<std::string> tokens;
  std::vector<long long> listings;
  SteadyClock::time_point begin;
  SteadyClock::time_point window_start;
  SteadyClock::time_point window_end;  // no checkout starts after it
  std::array<std::vector<Sample>, kStepCount> samples;
  std::vector<double> completed_at;  // seconds since begin
  std::map<std::string, long> errors;
  std::vector<std::string> error_examples;
  long started = 0;
  long completed = 0;
  long sold_out = 0;
  long polls = 0;
  long connects = 0;
  int buyers_running = 0;
  std::mt19937_64 random{20261129};
  rusage usage_at_start{};
  rusage usage_at_end{};
  SteadyClock::time_point usage_start_wall;
  SteadyClock::time_point usage_end_wall;

  double Since(SteadyClock::time_point t) const {
    return std::chrono::duration<double>(t - begin).count();
  }
  void Record(Step step, SteadyClock::time_point from, SteadyClock::time_point to) {
    samples[step].push_back(
        Sample{Since(from), std::chrono::duration<double, std::milli>(to - from).count()});
  }
  void Error(std::string_view step, const std::string& what, const std::string& detail) {
    ++errors[std::string(step) + " " + what];
    if (error_examples.size() < 12)
      error_examples.push_back(std::string(step) + " " + what + ": " + detail.substr(0, 300));
  }
};

struct Reply {
  int status = 0;  // 0: no answer (the network error is in `failure`)
  std::string body;
  std::string failure;
};

// One keep-alive connection to the server, reopened when it closes or fails.
class Connection {
 public:
  Connection(asio::any_io_executor executor, Shared& shared)
      : stream_(std::move(executor)), shared_(shared) {}

  Awaitable<Reply> Send(bhttp::verb verb, std::string target, std::string body,
                        const std::string& token, std::string idempotency_key) {
    Reply reply;
    if (!open_) {
      stream_.expires_after(kRequestTimeout);
      auto [ec] = co_await stream_.async_connect(shared_.endpoint, kNoThrow);
      if (ec) {
        reply.failure = "connect: " + ec.message();
        Close();
        co_return reply;
      }
      stream_.socket().set_option(tcp::no_delay(true));
      open_ = true;
      ++shared_.connects;
    }
    bhttp::request<bhttp::string_body> request(verb, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    request.set(bhttp::field::authorization, "Bearer " + token);
    if (!idempotency_key.empty()) request.set("Idempotency-Key", idempotency_key);
    if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();

    stream_.expires_after(kRequestTimeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream_, request, kNoThrow);
    if (write_ec) {
      reply.failure = "send: " + write_ec.message();
      Close();
      co_return reply;
    }
    bhttp::response<bhttp::string_body> response;
    auto [read_ec, read] = co_await bhttp::async_read(stream_, buffer_, response, kNoThrow);
    if (read_ec) {
      reply.failure = "read: " + read_ec.message();
      Close();
      co_return reply;
    }
    reply.status = static_cast<int>(response.result_int());
    reply.body = std::move(response.body());
    if (!response.keep_alive()) Close();
    co_return reply;
  }

 private:
  void Close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    buffer_.clear();
    open_ = false;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Shared& shared_;
  bool open_ = false;
};

std::optional<json::object> ParseObject(const std::string& body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string StringField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

long long IntField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_int64() ? value->as_int64() : 0;
}

std::string Problem(const Reply& reply) {
  return reply.status == 0 ? "net" : std::to_string(reply.status);
}

std::string Detail(const Reply& reply) { return reply.status == 0 ? reply.failure : reply.body; }

const std::string kAddress =
    R"({"shipping_address":{"recipient_name":"Bench Buyer","line1":"1 Loopback Street",)"
    R"("city":"Portland","postal_code":"97201","country":"US"}})";

// One virtual buyer: whole checkouts, one after the other, until the window ends.
Awaitable<void> Buyer(Shared* shared, int index) {
  auto executor = co_await asio::this_coro::executor;
  Connection connection(executor, *shared);
  asio::steady_timer timer(executor);
  const std::string& token = shared->tokens[index];
  std::uniform_int_distribution<std::size_t> pick(0, shared->listings.size() - 1);
  bool cart_dirty = false;
  const std::string run_tag =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());

  for (long n = 0; SteadyClock::now() < shared->window_end; ++n) {
    if (cart_dirty) {
      // What a failed checkout left in the cart would ride along with the next one.
      Reply cleared = co_await connection.Send(bhttp::verb::delete_, "/api/v1/cart", "", token, "");
      if (cleared.status != 204 && cleared.status != 200)
        shared->Error("cart DELETE", Problem(cleared), Detail(cleared));
      cart_dirty = false;
    }
    const long long listing = shared->listings[pick(shared->random)];
    ++shared->started;
    const auto t0 = SteadyClock::now();

    // 1. The cart line.
    Reply cart =
        co_await connection.Send(bhttp::verb::put, "/api/v1/cart/items/" + std::to_string(listing),
                                 R"({"quantity":1})", token, "");
    const auto t1 = SteadyClock::now();
    shared->Record(kCart, t0, t1);
    if (cart.status != 200) {
      cart_dirty = true;
      if (cart.status == 409 && shared->options.stop_on_sold_out) {
        ++shared->sold_out;
        break;
      }
      shared->Error("cart PUT", Problem(cart), Detail(cart));
      continue;
    }

    // 2. The order.
    std::string key = "bench-" + run_tag + "-" + std::to_string(index) + "-" + std::to_string(n);
    Reply placed =
        co_await connection.Send(bhttp::verb::post, "/api/v1/orders", kAddress, token, key);
    const auto t2 = SteadyClock::now();
    shared->Record(kOrder, t1, t2);
    if (placed.status != 201) {
      cart_dirty = true;
      if (placed.status == 409 && shared->options.stop_on_sold_out) {
        ++shared->sold_out;
        break;
      }
      shared->Error("order POST", Problem(placed), Detail(placed));
      continue;
    }
    auto order = ParseObject(placed.body);
    const long long order_id = order ? IntField(*order, "id") : 0;
    if (order_id <= 0) {
      shared->Error("order POST", "no id", placed.body);
      continue;
    }
    const std::string order_path = "/api/v1/orders/" + std::to_string(order_id);

    // 3. The payment intent.
    Reply pay = co_await connection.Send(bhttp::verb::post, order_path + "/payment", "", token, "");
    const auto t3 = SteadyClock::now();
    shared->Record(kPay, t2, t3);
    if (pay.status != 200) {
      shared->Error("payment POST", Problem(pay), Detail(pay));
      continue;
    }
    auto intent = ParseObject(pay.body);
    const std::string intent_id = intent ? StringField(*intent, "intent_id") : "";
    const std::string secret = intent ? StringField(*intent, "client_secret") : "";
    if (intent_id.empty() || secret.empty()) {
      shared->Error("payment POST", "no intent", pay.body);
      continue;
    }

    // 4. The card, at the local gateway.
    json::object card;
    card["client_secret"] = secret;
    card["card_number"] = "4242424242424242";
    card["exp_month"] = 12;
    card["exp_year"] = 2030;
    card["cvc"] = "123";
    std::string card_body = json::serialize(card);
    Reply confirmed = co_await connection.Send(
        bhttp::verb::post, "/api/v1/payments/local/intents/" + intent_id + "/confirm",
        std::move(card_body), token, "");
    const auto t4 = SteadyClock::now();
    shared->Record(kConfirm, t3, t4);
    if (confirmed.status != 200) {
      shared->Error("confirm POST", Problem(confirmed), Detail(confirmed));
      continue;
    }

    // 5. The webhook lands: the order is paid.
    auto wait = std::chrono::milliseconds(std::max(0, shared->options.poll_ms));
    bool paid = false;
    std::string last_status;
    while (SteadyClock::now() - t4 < kPaidTimeout) {
      if (wait.count() > 0) {
        timer.expires_after(wait);
        co_await timer.async_wait(kNoThrow);
      }
      wait = std::min(kMaxPollWait, std::max(wait * 2, std::chrono::milliseconds(1)));
      const auto p0 = SteadyClock::now();
      Reply got = co_await connection.Send(bhttp::verb::get, order_path, "", token, "");
      const auto p1 = SteadyClock::now();
      shared->Record(kPoll, p0, p1);
      ++shared->polls;
      if (got.status != 200) {
        shared->Error("order GET", Problem(got), Detail(got));
        break;
      }
      auto seen = ParseObject(got.body);
      last_status = seen ? StringField(*seen, "status") : "";
      if (last_status == "paid") {
        paid = true;
        break;
      }
      if (last_status != "pending_payment") {
        shared->Error("order GET", "status " + last_status, got.body);
        break;
      }
    }
    const auto t5 = SteadyClock::now();
    if (!paid) {
      if (last_status == "pending_payment")
        shared->Error("order GET", "not paid within 10 s", order_path);
      continue;
    }
    shared->Record(kConfirmToPaid, t4, t5);
    shared->Record(kCheckout, t0, t5);
    ++shared->completed;
    shared->completed_at.push_back(shared->Since(t5));
  }
  --shared->buyers_running;
}

// Takes the driver's own CPU time at the edges of the measured window.
Awaitable<void> WindowClock(Shared* shared) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_at(shared->window_start);
  co_await timer.async_wait(kNoThrow);
  getrusage(RUSAGE_SELF, &shared->usage_at_start);
  shared->usage_start_wall = SteadyClock::now();
  timer.expires_at(shared->window_end);
  co_await timer.async_wait(kNoThrow);
  getrusage(RUSAGE_SELF, &shared->usage_at_end);
  shared->usage_end_wall = SteadyClock::now();
}

double CpuSeconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const std::size_t rank =
      static_cast<std::size_t>(std::max(0.0, std::ceil(p / 100.0 * sorted.size()) - 1));
  return sorted[std::min(rank, sorted.size() - 1)];
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

[[noreturn]] void Usage(const char* problem) {
  std::cerr << "checkout_driver: " << problem
            << "\nusage: checkout_driver --port P --tokens FILE --listings FILE [--buyers K] "
               "[--warmup S] [--duration S] [--stop-on-sold-out] [--poll-ms MS] [--label NAME]\n";
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("a value is missing");
      return argv[++i];
    };
    try {
      if (arg == "--port") {
        int port = std::stoi(value());
        if (port < 1 || port > 65535) Usage("--port must be 1..65535");
        options.port = static_cast<std::uint16_t>(port);
      } else if (arg == "--tokens") {
        options.tokens_file = value();
      } else if (arg == "--listings") {
        options.listings_file = value();
      } else if (arg == "--buyers") {
        options.buyers = std::stoi(value());
      } else if (arg == "--warmup") {
        options.warmup = std::stod(value());
      } else if (arg == "--duration") {
        options.duration = std::stod(value());
      } else if (arg == "--stop-on-sold-out") {
        options.stop_on_sold_out = true;
      } else if (arg == "--poll-ms") {
        options.poll_ms = std::stoi(value());
      } else if (arg == "--label") {
        options.label = value();
      } else {
        Usage("unknown option");
      }
    } catch (const std::logic_error&) {
      Usage("a value is not a number");
    }
  }
  if (options.port == 0 || options.tokens_file.empty() || options.listings_file.empty())
    Usage("--port, --tokens and --listings are required");
  if (options.warmup < 0 || options.warmup > 30 || options.duration <= 0 || options.duration > 60)
    Usage("--warmup must be 0..30 and --duration 0..60 seconds");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Shared shared;
  shared.options = ParseOptions(argc, argv);
  const Options& options = shared.options;
  try {
    shared.tokens = ReadLines(options.tokens_file);
    for (const std::string& line : ReadLines(options.listings_file))
      shared.listings.push_back(std::stoll(line));
  } catch (const std::exception& e) {
    std::cerr << "checkout_driver: " << e.what() << "\n";
    return 2;
  }
  const int buyers = options.buyers > 0 ? options.buyers : static_cast<int>(shared.tokens.size());
  if (buyers < 1 || static_cast<std::size_t>(buyers) > shared.tokens.size())
    Usage("--buyers must be 1 to the number of tokens");
  if (shared.listings.empty()) Usage("no listing ids");
  // Loopback only, by construction.
  shared.endpoint = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), options.port);

  asio::io_context context(1);
  shared.begin = SteadyClock::now();
  shared.window_start = shared.begin + std::chrono::duration_cast<SteadyClock::duration>(
                                           std::chrono::duration<double>(options.warmup));
  shared.window_end = shared.window_start + std::chrono::duration_cast<SteadyClock::duration>(
                                                std::chrono::duration<double>(options.duration));
  shared.buyers_running = buyers;
  for (int i = 0; i < buyers; ++i) asio::co_spawn(context, Buyer(&shared, i), asio::detached);
  asio::co_spawn(context, WindowClock(&shared), asio::detached);
  context.run();
  const auto finished = SteadyClock::now();

  // ---- Report ----
  const double window_from = options.warmup;
  const double window_to = options.warmup + options.duration;
  long in_window = 0;
  for (double at : shared.completed_at) {
    if (at >= window_from && at < window_to) ++in_window;
  }
  // Sold out early: the window is the time until the last completion.
  double measured = options.duration;
  if (options.stop_on_sold_out && !shared.completed_at.empty()) {
    const double last = *std::max_element(shared.completed_at.begin(), shared.completed_at.end());
    if (last < window_to) measured = std::max(0.001, last - window_from);
  }
  const double rate = static_cast<double>(in_window) / measured;
  long error_count = 0;
  for (const auto& [what, count] : shared.errors) error_count += count;

  double driver_cpu = 0;
  if (shared.usage_end_wall > shared.usage_start_wall) {
    driver_cpu =
        (CpuSeconds(shared.usage_at_end) - CpuSeconds(shared.usage_at_start)) /
        std::chrono::duration<double>(shared.usage_end_wall - shared.usage_start_wall).count() *
        100.0;
  }

  std::printf("\n=== %s: %d buyers, %zu listing(s), warmup %.0f s, window %.0f s, run %.1f s\n",
              options.label.c_str(), buyers, shared.listings.size(), options.warmup,
              options.duration, shared.Since(finished));
  std::printf(
      "checkouts: %ld started, %ld completed (paid), %ld in the window -> %.1f/s; "
      "sold out answers %ld; errors %ld; polls %.2f per completed checkout; "
      "connections opened %ld\n",
      shared.started, shared.completed, in_window, rate, shared.sold_out, error_count,
      shared.completed ? static_cast<double>(shared.polls) / shared.completed : 0.0,
      shared.connects);
  std::printf("driver CPU in the window: %.1f%% of one core\n", driver_cpu);
  std::printf("%-22s %8s %9s %9s %9s %9s %9s\n", "latency (window), ms", "count", "p50", "p90",
              "p99", "p99.9", "max");
  std::string result_line;
  char buffer[256];
  for (int step = 0; step < kStepCount; ++step) {
    std::vector<double> values;
    for (const Sample& s : shared.samples[step]) {
      if (s.at >= window_from && s.at < window_to) values.push_back(s.ms);
    }
    std::sort(values.begin(), values.end());
    const double p50 = Percentile(values, 50), p90 = Percentile(values, 90),
                 p99 = Percentile(values, 99), p999 = Percentile(values, 99.9);
    const double max = values.empty() ? 0 : values.back();
    std::printf("%-22s %8zu %9.2f %9.2f %9.2f %9.2f %9.2f\n", kStepNames[step], values.size(), p50,
                p90, p99, p999, max);
    std::snprintf(buffer, sizeof buffer, " %s_p50=%.2f %s_p99=%.2f", kStepKeys[step], p50,
                  kStepKeys[step], p99);
    result_line += buffer;
  }
  // Completions per second over the whole run, warmup and drain included.
  std::vector<int> per_second(static_cast<std::size_t>(shared.Since(finished)) + 1, 0);
  for (double at : shared.completed_at) ++per_second[static_cast<std::size_t>(at)];
  std::printf("completed per second:");
  for (int n : per_second) std::printf(" %d", n);
  std::printf("\n");
  if (!shared.errors.empty()) {
    std::printf("errors:\n");
    for (const auto& [what, count] : shared.errors)
      std::printf("  %-40s %ld\n", what.c_str(), count);
    std::printf("first errors:\n");
    for (const auto& example : shared.error_examples) std::printf("  %s\n", example.c_str());
  }
  std::printf(
      "RESULT label=%s buyers=%d rate=%.1f completed=%ld in_window=%ld errors=%ld "
      "sold_out=%ld polls_per_checkout=%.2f driver_cpu=%.1f%s\n",
      options.label.c_str(), buyers, rate, shared.completed, in_window, error_count,
      shared.sold_out,
      shared.completed ? static_cast<double>(shared.polls) / shared.completed : 0.0, driver_cpu,
      result_line.c_str());
  return 0;
}
