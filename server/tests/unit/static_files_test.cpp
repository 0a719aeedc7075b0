#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "http/percent_decode.hpp"

namespace market::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "static-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    Write("index.html", "<!doctype html><title>app</title>");
    Write("index.html.br", "BR index");
    Write("index.html.gz", "GZ index");
    Write("assets/index-abc123.js", "console.log('app')");
    Write("assets/index-abc123.js.br", "BR js");
    Write("assets/index-abc123.js.gz", "GZ js");
    Write("assets/index-abc123.js.map", "{\"mappings\":\"\"}");
    Write("assets/index-def456.css", "body{}");
    Write("assets/photo-1.webp", "webp");
    Write("favicon.svg", "<svg/>");
    Write(".env", "SECRET=1");
    // Outside the root: what a traversal would be after.
    std::ofstream(root_.parent_path() / (root_.filename().string() + "-secret.txt"))
        << "TOP SECRET CONTENT";
    files_ = StaticFiles::Load(root_);
    ASSERT_TRUE(files_.has_value());
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove(root_.parent_path() / (root_.filename().string() + "-secret.txt"));
  }

  void Write(const std::string& name, const std::string& bytes) {
    fs::create_directories((root_ / name).parent_path());
    std::ofstream(root_ / name, std::ios::binary) << bytes;
  }

  Response Get(std::string path, std::string accept_encoding = "",
               std::string if_none_match = "") const {
    Request request;
    request.path = std::move(path);
    request.target = request.path;
    if (!accept_encoding.empty()) request.headers.emplace_back("accept-encoding", accept_encoding);
    if (!if_none_match.empty()) request.headers.emplace_back("if-none-match", if_none_match);
    return files_->Serve(request);
  }

  static std::string ErrorCodeOf(const Response& response) {
    return std::string(
        boost::json::parse(response.body).at("error").at("code").as_string().c_str());
  }

  fs::path root_;
  std::optional<StaticFiles> files_;
};

TEST_F(StaticFilesTest, LoadsNothingWithoutAnIndexHtml) {
  fs::remove(root_ / "index.html");
  EXPECT_FALSE(StaticFiles::Load(root_).has_value());
  EXPECT_FALSE(StaticFiles::Load(root_ / "missing").has_value());
}

TEST_F(StaticFilesTest, FollowsNoLinksNotEvenToIndexHtml) {
  fs::create_symlink(root_.parent_path(), root_ / "outside");
  fs::create_symlink(root_.parent_path() / (root_.filename().string() + "-secret.txt"),
                     root_ / "secret.txt");
  std::optional<StaticFiles> files = StaticFiles::Load(root_);
  ASSERT_TRUE(files.has_value());
  Request request;
  request.path = "/secret.txt";
  EXPECT_EQ(files->Serve(request).status, 404);
  request.path = "/outside/" + root_.filename().string() + "-secret.txt";
  EXPECT_EQ(files->Serve(request).status, 404);

  fs::rename(root_ / "index.html", root_ / "real-index.html");
  fs::create_symlink(root_ / "real-index.html", root_ / "index.html");
  EXPECT_FALSE(StaticFiles::Load(root_).has_value());
}

TEST_F(StaticFilesTest, ServesHashedAssetsAsImmutableWithTheirContentType) {
  Response js = Get("/assets/index-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('app')");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.Header("Content-Encoding"), "");
  EXPECT_EQ(js.Header("X-Content-Type-Options"), "nosniff");

  EXPECT_EQ(Get("/assets/index-def456.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Get("/assets/photo-1.webp").content_type, "image/webp");
}

TEST_F(StaticFilesTest, NeverCachesIndexHtmlWithoutRevalidation) {
  for (const char* path : {"/", "/index.html"}) {
    Response index = Get(path);
    EXPECT_EQ(index.status, 200) << path;
    EXPECT_EQ(index.body, "<!doctype html><title>app</title>") << path;
    EXPECT_EQ(index.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(index.Header("Cache-Control"), "no-cache") << path;
  }
  Response icon = Get("/favicon.svg");
  EXPECT_EQ(icon.content_type, "image/svg+xml");
  EXPECT_EQ(icon.Header("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, PicksThePrecompressedFileByAcceptEncoding) {
  Response br = Get("/assets/index-abc123.js", "gzip, deflate, br");
  EXPECT_EQ(br.body, "BR js");
  EXPECT_EQ(br.Header("Content-Encoding"), "br");
  EXPECT_EQ(br.Header("Vary"), "Accept-Encoding");
  EXPECT_EQ(br.content_type, "text/javascript; charset=utf-8");

  Response gz = Get("/assets/index-abc123.js", "gzip");
  EXPECT_EQ(gz.body, "GZ js");
  EXPECT_EQ(gz.Header("Content-Encoding"), "gzip");

  EXPECT_EQ(Get("/assets/index-abc123.js", "br;q=0, gzip;q=0.5").body, "GZ js");
  EXPECT_EQ(Get("/assets/index-abc123.js", "*").body, "BR js");
  EXPECT_EQ(Get("/assets/index-abc123.js", "*;q=0, gzip").body, "GZ js");
  EXPECT_EQ(Get("/assets/index-abc123.js", "br;q=0.0, gzip;q=0").body, "console.log('app')");
  EXPECT_EQ(Get("/assets/index-abc123.js", "identity").body, "console.log('app')");

  Response plain = Get("/assets/index-abc123.js");
  EXPECT_EQ(plain.Header("Vary"), "Accept-Encoding");
  EXPECT_EQ(Get("/index.html", "br").body, "BR index");
  EXPECT_EQ(Get("/client/route", "gzip").body, "GZ index");
}

TEST_F(StaticFilesTest, AFileWithoutCompressedCopiesHasNoVary) {
  EXPECT_EQ(Get("/assets/photo-1.webp", "br, gzip").Header("Vary"), "");
  EXPECT_EQ(Get("/assets/photo-1.webp", "br, gzip").body, "webp");
}

TEST_F(StaticFilesTest, AnswersAMatchingIfNoneMatchWith304PerEncoding) {
  Response first = Get("/assets/index-abc123.js", "br");
  std::string etag(first.Header("ETag"));
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');

  Response again = Get("/assets/index-abc123.js", "br", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(again.Header("ETag"), etag);
  EXPECT_EQ(again.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Get("/assets/index-abc123.js", "br", "W/" + etag).status, 304);
  EXPECT_EQ(Get("/assets/index-abc123.js", "br", "\"other\", " + etag).status, 304);

  // Each encoding is its own representation with its own tag.
  std::string gzip_etag(Get("/assets/index-abc123.js", "gzip").Header("ETag"));
  std::string plain_etag(Get("/assets/index-abc123.js").Header("ETag"));
  EXPECT_NE(gzip_etag, etag);
  EXPECT_NE(plain_etag, etag);
  EXPECT_EQ(Get("/assets/index-abc123.js", "gzip", etag).status, 200);

  std::string index_etag(Get("/").Header("ETag"));
  EXPECT_EQ(Get("/some/route", "", index_etag).status, 304);
  EXPECT_EQ(Get("/", "", "\"stale\"").status, 200);
}

TEST_F(StaticFilesTest, GivesTheSameETagToTheSameContentInAnotherLoad) {
  std::optional<StaticFiles> again = StaticFiles::Load(root_);
  Request request;
  request.path = "/assets/index-abc123.js";
  EXPECT_EQ(again->Serve(request).Header("ETag"), Get("/assets/index-abc123.js").Header("ETag"));
  Write("assets/index-abc123.js", "changed");
  EXPECT_NE(StaticFiles::Load(root_)->Serve(request).Header("ETag"),
            Get("/assets/index-abc123.js").Header("ETag"));
}

TEST_F(StaticFilesTest, FallsBackToIndexHtmlForClientRoutes) {
  for (const char* path : {"/listings/42", "/cart", "/orders/7/", "/sell/new"}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 200) << path;
    EXPECT_EQ(response.body, "<!doctype html><title>app</title>") << path;
    EXPECT_EQ(response.Header("Cache-Control"), "no-cache") << path;
  }
}

TEST_F(StaticFilesTest, AnswersMissingFilesWith404InsteadOfTheApp) {
  for (const char* path : {"/assets/index-old999.js", "/robots.txt", "/listings/photo.png"}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(ErrorCodeOf(response), "not_found") << path;
  }
}

TEST_F(StaticFilesTest, KeepsApiAndMediaPathsToTheApiAsJson404) {
  for (const char* path : {"/api", "/api/", "/api/v1/nope", "/api/v1/listings/x/y", "/media",
                           "/media/ab/cd/missing.webp", "/media/x"}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.content_type, "application/json") << path;
    EXPECT_EQ(ErrorCodeOf(response), "not_found") << path;
  }
}

TEST_F(StaticFilesTest, NeverServesSourceMapsOrDotfiles) {
  EXPECT_EQ(Get("/assets/index-abc123.js.map").status, 404);
  EXPECT_EQ(Get("/.env").status, 404);
  EXPECT_EQ(Get("/assets/index-abc123.js.br").status, 404);
}

TEST_F(StaticFilesTest, RefusesPathTraversalRawEncodedAndWithNul) {
  std::string outside = "/../" + root_.filename().string() + "-secret.txt";
  for (const std::string& path :
       {outside, std::string("/assets/../index.html"), std::string("/assets/./index-abc123.js"),
        std::string("/..%2f..%2fetc/passwd"), std::string("/%2e%2e/%2e%2e/etc/passwd"),
        std::string("/cart%2f..%2f..%2fetc%2fpasswd"), std::string("/..\\..\\etc\\passwd"),
        std::string("/index.html\0.js", 15), std::string("/assets/\0", 9),
        std::string("relative/index.html"), std::string("")}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(ErrorCodeOf(response), "not_found") << path;
    EXPECT_EQ(response.body.find("TOP SECRET"), std::string::npos) << path;
  }
  // What the server hands over is percent-decoded first: an encoded traversal arrives as one.
  std::optional<std::string> decoded = PercentDecode("/%2e%2e/" + outside.substr(4), false);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(Get(*decoded).status, 404);
  EXPECT_FALSE(PercentDecode("/index.html%00.js", false).has_value());
}

}  // namespace
}  // namespace market::http
