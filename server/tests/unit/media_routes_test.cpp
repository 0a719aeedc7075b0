#include "handlers/media.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "clients/media/file_media_store.hpp"

namespace market::handlers {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

class MediaRoutesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "media-routes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    store_.emplace(root_);
    AddMediaRoutes(router_, *store_, file_pool_);
  }
  void TearDown() override {
    file_pool_.join();
    fs::remove_all(root_);
  }

  http::Response Get(std::string path, std::string if_none_match = "",
                     http::Method method = http::Method::kGet) {
    http::Request request;
    request.method = method;
    request.path = std::move(path);
    request.target = request.path;
    if (!if_none_match.empty()) request.headers.emplace_back("if-none-match", if_none_match);
    asio::io_context io;
    std::optional<http::Response> response;
    std::exception_ptr failure;
    asio::co_spawn(io, router_.Dispatch(request), [&](std::exception_ptr e, http::Response r) {
      failure = e;
      response = std::move(r);
    });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*response);
  }

  static std::string ErrorCodeOf(const http::Response& response) {
    return std::string(
        boost::json::parse(response.body).at("error").at("code").as_string().c_str());
  }

  fs::path root_;
  std::optional<clients::FileMediaStore> store_;
  asio::thread_pool file_pool_{1};
  http::Router router_;
};

TEST_F(MediaRoutesTest, ServesAStoredFileAsImmutableWithItsHashAsETag) {
  std::string key = store_->Put("webp bytes", "webp");
  std::string hash = key.substr(6, 64);
  http::Response response = Get("/media/" + key);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "webp bytes");
  EXPECT_EQ(response.content_type, "image/webp");
  EXPECT_EQ(response.Header("ETag"), "\"" + hash + "\"");
  EXPECT_EQ(response.Header("Cache-Control"), "public, max-age=31536000, immutable");

  EXPECT_EQ(Get("/media/" + store_->Put("j", "jpeg")).content_type, "image/jpeg");
  EXPECT_EQ(Get("/media/" + store_->Put("p", "png")).content_type, "image/png");
}

TEST_F(MediaRoutesTest, AnswersAMatchingIfNoneMatchWith304AndNoBody) {
  std::string key = store_->Put("png bytes", "png");
  std::string etag = "\"" + key.substr(6, 64) + "\"";
  for (std::string header : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    http::Response response = Get("/media/" + key, header);
    EXPECT_EQ(response.status, 304) << header;
    EXPECT_TRUE(response.body.empty());
    EXPECT_EQ(response.Header("ETag"), etag);
    EXPECT_EQ(response.Header("Cache-Control"), "public, max-age=31536000, immutable");
  }
  EXPECT_EQ(Get("/media/" + key, "\"other\"").status, 200);
}

TEST_F(MediaRoutesTest, AnswersHeadLikeGet) {
  std::string key = store_->Put("png bytes", "png");
  http::Response response = Get("/media/" + key, "", http::Method::kHead);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "image/png");
}

TEST_F(MediaRoutesTest, AnswersUnknownAndMalformedKeysWith404) {
  std::string key = store_->Put("png bytes", "png");
  std::string hash = key.substr(6, 64);
  std::string unknown = "/media/" + key.substr(0, key.size() - 3) + "jpg";
  for (std::string path : {unknown, "/media/" + key.substr(0, 6) + hash + ".gif",
                           "/media/zz/zz/" + hash + ".png", std::string("/media/a/b/c")}) {
    http::Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(ErrorCodeOf(response), "not_found") << path;
  }
  // A 304 is only for media that exists.
  EXPECT_EQ(Get(unknown, "*").status, 404);
}

}  // namespace
}  // namespace market::handlers
