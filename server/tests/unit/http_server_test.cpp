#include "http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/unavailable.hpp"

namespace market::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using HttpResponse = bhttp::response<bhttp::string_body>;

constexpr auto kClientTimeout = 5s;

bool PollUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// A raw HTTP/1.1 client with a deadline on every operation, so a broken server fails a test
// instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(io_) {
    beast::error_code result = asio::error::timed_out;
    stream_.expires_after(kClientTimeout);
    stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code ec) { result = ec; });
    Run();
    if (result) throw std::runtime_error("connect failed: " + result.message());
  }

  void Send(const std::string& raw) {
    beast::error_code result = asio::error::timed_out;
    stream_.expires_after(kClientTimeout);
    asio::async_write(stream_, asio::buffer(raw),
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    Run();
    if (result) throw std::runtime_error("send failed: " + result.message());
  }

  std::optional<HttpResponse> Read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    parser.body_limit(16 * 1024 * 1024);
    beast::error_code result = asio::error::timed_out;
    stream_.expires_after(kClientTimeout);
    bhttp::async_read(stream_, buffer_, parser,
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    Run();
    if (result) return std::nullopt;
    return parser.release();
  }

  HttpResponse Exchange(const std::string& raw, bool head = false) {
    Send(raw);
    auto response = Read(head);
    if (!response) throw std::runtime_error("no response");
    return std::move(*response);
  }

  // True when the server closes the connection within `limit` without sending anything more.
  bool ClosedByServerWithin(std::chrono::steady_clock::duration limit) {
    beast::error_code result = asio::error::timed_out;
    char byte;
    stream_.expires_after(limit);
    stream_.async_read_some(asio::buffer(&byte, 1),
                            [&](beast::error_code ec, std::size_t) { result = ec; });
    Run();
    return result == asio::error::eof || result == asio::error::connection_reset;
  }

 private:
  void Run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string Post(std::string_view target, const std::string& body,
                 std::string_view extra_headers = "") {
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" + body;
}

boost::json::value BodyJson(const HttpResponse& response) {
  return boost::json::parse(response.body());
}

std::string ErrorCodeOf(const HttpResponse& response) {
  return std::string(BodyJson(response).at("error").at("code").as_string().c_str());
}

bool IsGeneratedRequestId(std::string_view id) {
  return std::regex_match(std::string(id), std::regex("[0-9a-f]{32}"));
}

struct Probe {
  std::atomic<bool> slow_entered{false};
};

Router TestRouter(Probe& probe) {
  Router router;
  router.Add(Method::kGet, "/hello", [](Request&) -> Task<Response> {
    co_return Json(200, boost::json::object{{"hello", "world"}});
  });
  router.Add(Method::kPost, "/echo", [](Request& request) -> Task<Response> {
    co_return Text(200, "text/plain", request.body);
  });
  router.Add(Method::kPost, "/upload", [](Request& request) -> Task<Response> {
    co_return Text(200, "text/plain", std::to_string(request.body.size()));
  });
  router.Add(Method::kGet, "/items/{name}", [](Request& request) -> Task<Response> {
    co_return Text(200, "text/plain",
                   std::string(request.PathParam("name")) + "|" + request.QueryParam("q"));
  });
  router.Add(Method::kGet, "/boom", [](Request&) -> Task<Response> {
    throw std::runtime_error("secret table users_pkey");
    co_return NoContent();
  });
  router.Add(Method::kGet, "/down", [](Request&) -> Task<Response> {
    throw ServiceUnavailable("postgres at 10.0.0.5 refused");
    co_return NoContent();
  });
  router.Add(Method::kGet, "/slow", [&probe](Request&) -> Task<Response> {
    probe.slow_entered = true;
    asio::steady_timer timer(co_await asio::this_coro::executor, 300ms);
    co_await timer.async_wait(asio::use_awaitable);
    co_return Json(200, boost::json::object{{"slow", true}});
  });
  router.Add(Method::kGet, "/thread", [](Request&) -> Task<Response> {
    std::ostringstream id;
    id << std::this_thread::get_id();
    co_return Text(200, "text/plain", id.str());
  });
  return router;
}

// One server on its own io thread, bound to a free port.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}) : router_(TestRouter(probe_)) {
    options.address = "127.0.0.1";
    options.port = ResolvePort("127.0.0.1", 0);
    port_ = options.port;
    server_ = std::make_unique<Server>(io_, router_, std::move(options));
    server_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~TestServer() {
    server_->BeginDrain();
    PollUntil([&] { return server_->open_connections() == 0; });
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  Server& server() { return *server_; }
  Probe& probe() { return probe_; }

 private:
  Probe probe_;
  Router router_;
  asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

ServerOptions Quiet() {
  ServerOptions options;
  options.access_log = false;
  return options;
}

TEST(HttpServer, ServesTwoRequestsOnOneKeepAliveConnection) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse first = client.Exchange(Get("/hello"));
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(first[bhttp::field::content_type], "application/json");
  EXPECT_EQ(BodyJson(first), boost::json::parse(R"({"hello":"world"})"));
  HttpResponse second = client.Exchange(Post("/echo", "ping"));
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), "ping");
  EXPECT_EQ(server.server().open_connections(), 1u);
}

TEST(HttpServer, ServesPipelinedRequestsInOrder) {
  TestServer server(Quiet());
  Client client(server.port());
  client.Send(Post("/echo", "one") + Post("/echo", "two"));
  auto first = client.Read();
  auto second = client.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body(), "one");
  EXPECT_EQ(second->body(), "two");
}

TEST(HttpServer, PassesDecodedPathParamsAndQuery) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse response = client.Exchange(Get("/items/red%20shoe?q=a+b%26c"));
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "red shoe|a b&c");
}

TEST(HttpServer, ClosesWhenTheClientAsksTo) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse response = client.Exchange(Get("/hello", "Connection: close\r\n"));
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.ClosedByServerWithin(kClientTimeout));
}

TEST(HttpServer, GeneratesRequestIdOrEchoesAWellFormedOne) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse generated = client.Exchange(Get("/hello"));
  EXPECT_TRUE(IsGeneratedRequestId(generated["X-Request-Id"])) << generated["X-Request-Id"];
  HttpResponse another = client.Exchange(Get("/hello"));
  EXPECT_NE(another["X-Request-Id"], generated["X-Request-Id"]);

  HttpResponse echoed = client.Exchange(Get("/hello", "X-Request-Id: abc.DEF_123-x\r\n"));
  EXPECT_EQ(echoed["X-Request-Id"], "abc.DEF_123-x");

  HttpResponse replaced = client.Exchange(Get("/hello", "X-Request-Id: bad id;<script>\r\n"));
  EXPECT_TRUE(IsGeneratedRequestId(replaced["X-Request-Id"])) << replaced["X-Request-Id"];
  HttpResponse too_long =
      client.Exchange(Get("/hello", "X-Request-Id: " + std::string(65, 'a') + "\r\n"));
  EXPECT_TRUE(IsGeneratedRequestId(too_long["X-Request-Id"]));
}

TEST(HttpServer, RejectsOversizedBodyWith413AndCloses) {
  ServerOptions options = Quiet();
  options.body_limit = 1024;
  TestServer server(options);
  Client client(server.port());
  HttpResponse response = client.Exchange(Post("/echo", std::string(64 * 1024, 'x')));
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(ErrorCodeOf(response), "payload_too_large");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(IsGeneratedRequestId(response["X-Request-Id"]));
  EXPECT_TRUE(client.ClosedByServerWithin(kClientTimeout));
}

TEST(HttpServer, RejectsOversizedChunkedBodyWith413) {
  ServerOptions options = Quiet();
  options.body_limit = 1024;
  TestServer server(options);
  Client client(server.port());
  std::string chunk(2000, 'x');
  HttpResponse response = client.Exchange(
      "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + chunk +
      "\r\n0\r\n\r\n");
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(ErrorCodeOf(response), "payload_too_large");
}

ServerOptions WithUploadPath() {
  ServerOptions options = Quiet();
  options.is_upload = [](std::string_view path) { return path == "/upload"; };
  return options;
}

std::string PostHeader(std::string_view target, std::size_t content_length) {
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n\r\n";
}

std::string ChunkedPost(std::string_view target, std::size_t size) {
  std::ostringstream chunk_size;
  chunk_size << std::hex << size;
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk_size.str() +
         "\r\n" + std::string(size, 'x') + "\r\n0\r\n\r\n";
}

TEST(HttpServer, AcceptsTwoMebibytesOnAnUploadPath) {
  TestServer server(WithUploadPath());
  Client client(server.port());
  std::size_t size = 2 * 1024 * 1024;
  HttpResponse response =
      client.Exchange(PostHeader("/upload?draft=1", size) + std::string(size, 'x'));
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), std::to_string(size));
  EXPECT_TRUE(response.keep_alive());
  // The upload limit belongs to that request only: the next one on the connection is JSON-sized.
  HttpResponse next = client.Exchange(PostHeader("/echo", size));
  EXPECT_EQ(next.result_int(), 413);
}

TEST(HttpServer, RefusesTwoMebibytesOnAnotherPathFromTheHeaderAlone) {
  TestServer server(WithUploadPath());
  Client client(server.port());
  // No body byte is sent: the answer must come from the declared length.
  HttpResponse response = client.Exchange(PostHeader("/echo", 2 * 1024 * 1024));
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(ErrorCodeOf(response), "payload_too_large");
  EXPECT_FALSE(response.keep_alive());
}

TEST(HttpServer, RefusesAnUploadOverTheUploadLimitFromTheHeaderAlone) {
  TestServer server(WithUploadPath());
  Client client(server.port());
  HttpResponse response = client.Exchange(PostHeader("/upload", 8 * 1024 * 1024 + 64 * 1024 + 1));
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(ErrorCodeOf(response), "payload_too_large");
}

TEST(HttpServer, AppliesThePathLimitToChunkedBodies) {
  ServerOptions options = WithUploadPath();
  options.body_limit = 1024;
  options.upload_body_limit = 16 * 1024;
  TestServer server(options);
  {
    Client client(server.port());
    HttpResponse response = client.Exchange(ChunkedPost("/upload", 8 * 1024));
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "8192");
  }
  {
    Client client(server.port());
    EXPECT_EQ(client.Exchange(ChunkedPost("/echo", 8 * 1024)).result_int(), 413);
  }
  {
    Client client(server.port());
    EXPECT_EQ(client.Exchange(ChunkedPost("/upload", 32 * 1024)).result_int(), 413);
  }
}

TEST(HttpServer, MatchesUploadPathsAfterPercentDecoding) {
  TestServer server(WithUploadPath());
  Client client(server.port());
  std::size_t size = 2 * 1024 * 1024;
  HttpResponse response = client.Exchange(PostHeader("/up%6Coad", size) + std::string(size, 'x'));
  EXPECT_EQ(response.result_int(), 200);
}

TEST(HttpServer, AnswersContinueBeforeReadingAnExpectedBody) {
  TestServer server(Quiet());
  Client client(server.port());
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  client.Send("hello");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "hello");
}

TEST(HttpServer, RejectsOversizedHeaderWith431InStandardBody) {
  ServerOptions options = Quiet();
  options.header_limit = 1024;
  TestServer server(options);
  Client client(server.port());
  HttpResponse response =
      client.Exchange(Get("/hello", "X-Padding: " + std::string(4000, 'p') + "\r\n"));
  EXPECT_EQ(response.result_int(), 431);
  EXPECT_EQ(ErrorCodeOf(response), "bad_request");
}

TEST(HttpServer, RejectsMalformedRequestLineWith400AndCloses) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse response = client.Exchange("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(ErrorCodeOf(response), "bad_request");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
  EXPECT_TRUE(client.ClosedByServerWithin(kClientTimeout));
}

TEST(HttpServer, RejectsInvalidPercentEncodingNulAndDotSegmentsInPath) {
  TestServer server(Quiet());
  for (std::string target :
       {"/items/a%zz", "/items/a%0", "/items/a%00b", "*", "/items/..", "/items/%2e%2e/x"}) {
    Client client(server.port());
    HttpResponse response = client.Exchange(Get(target));
    EXPECT_EQ(response.result_int(), 400) << target;
    EXPECT_EQ(ErrorCodeOf(response), "bad_request") << target;
  }
}

TEST(HttpServer, TurnsHandlerExceptionInto500WithoutItsMessage) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse response = client.Exchange(Get("/boom"));
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(
      BodyJson(response),
      boost::json::parse(R"({"error":{"code":"internal","message":"Internal server error."}})"));
  EXPECT_EQ(response.body().find("secret"), std::string::npos);
  // The connection survives a failed handler.
  EXPECT_EQ(client.Exchange(Get("/hello")).result_int(), 200);
}

TEST(HttpServer, TurnsServiceUnavailableInto503WithRetryAfter) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse response = client.Exchange(Get("/down"));
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_EQ(ErrorCodeOf(response), "unavailable");
  EXPECT_EQ(response["Retry-After"], "1");
  EXPECT_EQ(response.body().find("10.0.0.5"), std::string::npos);
}

TEST(HttpServer, AddsSecurityHeadersToEveryResponse) {
  TestServer server(Quiet());
  Client client(server.port());
  for (std::string request : {Get("/hello"), Get("/missing"), Post("/echo", "x")}) {
    HttpResponse response = client.Exchange(request);
    EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(response["X-Frame-Options"], "DENY");
    EXPECT_EQ(response["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(response["Cross-Origin-Opener-Policy"], "same-origin");
    EXPECT_EQ(response.count(bhttp::field::server), 0u);
    EXPECT_EQ(response.count(bhttp::field::content_length), 1u);
  }
  EXPECT_EQ(client.Exchange(Get("/hello"))["Cache-Control"], "no-store");
  EXPECT_EQ(client.Exchange(Post("/echo", "x")).count(bhttp::field::cache_control), 0u);
}

TEST(HttpServer, AnswersHeadWithGetHeadersAndNoBody) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse get = client.Exchange(Get("/hello"));
  HttpResponse head = client.Exchange("HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n", true);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(get.body().size()));
  EXPECT_TRUE(head.body().empty());
  // Were a body sent after the HEAD answer, this next response would be misparsed.
  EXPECT_EQ(client.Exchange(Get("/hello")).body(), get.body());
}

TEST(HttpServer, AddsCorsHeadersOnlyForListedOrigins) {
  ServerOptions options = Quiet();
  options.cors_origins = {"https://shop.example"};
  TestServer server(options);
  Client client(server.port());

  HttpResponse allowed = client.Exchange(Get("/hello", "Origin: https://shop.example\r\n"));
  EXPECT_EQ(allowed["Access-Control-Allow-Origin"], "https://shop.example");
  EXPECT_EQ(allowed["Vary"], "Origin");
  EXPECT_EQ(allowed["Access-Control-Expose-Headers"], "X-Request-Id, Retry-After, ETag");

  HttpResponse other = client.Exchange(Get("/hello", "Origin: https://shop.example.evil\r\n"));
  EXPECT_EQ(other.result_int(), 200);
  EXPECT_EQ(other.count(bhttp::field::access_control_allow_origin), 0u);

  HttpResponse preflight = client.Exchange(
      "OPTIONS /hello HTTP/1.1\r\nHost: test\r\nOrigin: https://shop.example\r\n"
      "Access-Control-Request-Method: POST\r\n\r\n");
  EXPECT_EQ(preflight.result_int(), 204);
  EXPECT_EQ(preflight["Access-Control-Allow-Origin"], "https://shop.example");
  EXPECT_EQ(preflight["Access-Control-Allow-Methods"], "GET, POST, PUT, PATCH, DELETE");
  EXPECT_EQ(preflight["Access-Control-Allow-Headers"],
            "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id");
  EXPECT_EQ(preflight["Access-Control-Max-Age"], "600");

  HttpResponse refused = client.Exchange(
      "OPTIONS /hello HTTP/1.1\r\nHost: test\r\nOrigin: https://evil.example\r\n"
      "Access-Control-Request-Method: POST\r\n\r\n");
  EXPECT_EQ(refused.result_int(), 403);
  EXPECT_EQ(ErrorCodeOf(refused), "forbidden");
  EXPECT_EQ(refused.count(bhttp::field::access_control_allow_origin), 0u);
}

TEST(HttpServer, SendsNoCorsHeadersWhenNoOriginIsConfigured) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse response = client.Exchange(Get("/hello", "Origin: https://shop.example\r\n"));
  EXPECT_EQ(response.count(bhttp::field::access_control_allow_origin), 0u);
  EXPECT_EQ(response.count(bhttp::field::vary), 0u);
}

TEST(HttpServer, AnswersUnknownRoutesAndMethodsInStandardBody) {
  TestServer server(Quiet());
  Client client(server.port());
  HttpResponse missing = client.Exchange(Get("/nowhere"));
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_EQ(ErrorCodeOf(missing), "not_found");
  HttpResponse wrong = client.Exchange(Post("/hello", ""));
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong["Allow"], "GET, HEAD");
}

TEST(HttpServer, ClosesIdleConnectionAfterIdleTimeout) {
  ServerOptions options = Quiet();
  options.idle_timeout = 1s;
  TestServer server(options);
  Client client(server.port());
  EXPECT_EQ(client.Exchange(Get("/hello")).result_int(), 200);
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.ClosedByServerWithin(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
  EXPECT_TRUE(PollUntil([&] { return server.server().open_connections() == 0; }));
}

TEST(HttpServer, DrainFinishesRequestInFlightAndClosesIdleConnections) {
  TestServer server(Quiet());
  Client idle(server.port());
  EXPECT_EQ(idle.Exchange(Get("/hello")).result_int(), 200);
  Client busy(server.port());
  busy.Send(Get("/slow"));
  ASSERT_TRUE(PollUntil([&] { return server.probe().slow_entered.load(); }));

  server.server().BeginDrain();
  EXPECT_TRUE(idle.ClosedByServerWithin(kClientTimeout));
  auto response = busy.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ(BodyJson(*response), boost::json::parse(R"({"slow":true})"));
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(PollUntil([&] { return server.server().open_connections() == 0; }));
  EXPECT_THROW(Client{server.port()}, std::runtime_error);
}

TEST(HttpServer, WritesOneJsonAccessLogLinePerRequestWithoutQuery) {
  ServerOptions options;
  options.access_log = true;
  TestServer server(options);
  testing::internal::CaptureStdout();
  {
    Client client(server.port());
    client.Exchange(Get("/items/x?token=secret",
                        "Connection: close\r\nUser-Agent: probe/1.0\r\nX-Request-Id: log-1\r\n"));
    PollUntil([&] { return server.server().open_connections() == 0; });
  }
  std::string output = testing::internal::GetCapturedStdout();
  EXPECT_EQ(output.find("secret"), std::string::npos) << output;
  std::istringstream lines(output);
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    if (line.find("log-1") == std::string::npos) continue;
    found = true;
    auto entry = boost::json::parse(line).as_object();
    EXPECT_EQ(entry.at("level"), "info");
    EXPECT_EQ(entry.at("msg"), "request");
    EXPECT_EQ(entry.at("request_id"), "log-1");
    EXPECT_EQ(entry.at("method"), "GET");
    EXPECT_EQ(entry.at("path"), "/items/x");
    EXPECT_EQ(entry.at("status"), 200);
    EXPECT_EQ(entry.at("bytes"), 2);
    EXPECT_EQ(entry.at("remote_ip"), "127.0.0.1");
    EXPECT_EQ(entry.at("user_agent"), "probe/1.0");
    EXPECT_TRUE(entry.at("duration_us").is_int64());
    EXPECT_TRUE(entry.at("ts").is_string());
  }
  EXPECT_TRUE(found) << output;
}

TEST(HttpServer, TwoIoContextsShareOnePortAndBothAnswer) {
  Probe probe;
  Router router = TestRouter(probe);
  ServerOptions options = Quiet();
  options.port = ResolvePort("127.0.0.1", 0);
  asio::io_context io_a;
  asio::io_context io_b;
  Server server_a(io_a, router, options);
  Server server_b(io_b, router, options);
  server_a.Start();
  server_b.Start();
  std::thread thread_a([&] { io_a.run(); });
  std::thread thread_b([&] { io_b.run(); });

  std::set<std::string> threads;
  for (int i = 0; i < 64 && threads.size() < 2; ++i) {
    Client client(options.port);
    HttpResponse response = client.Exchange(Get("/thread"));
    ASSERT_EQ(response.result_int(), 200);
    threads.insert(response.body());
  }
  EXPECT_EQ(threads.size(), 2u);

  server_a.BeginDrain();
  server_b.BeginDrain();
  EXPECT_TRUE(PollUntil(
      [&] { return server_a.open_connections() == 0 && server_b.open_connections() == 0; }));
  io_a.stop();
  io_b.stop();
  thread_a.join();
  thread_b.join();
}

TEST(HttpServer, ResolvePortKeepsAGivenPortAndFindsAFreeOne) {
  EXPECT_EQ(ResolvePort("127.0.0.1", 8123), 8123);
  EXPECT_NE(ResolvePort("127.0.0.1", 0), 0);
}

}  // namespace
}  // namespace market::http
