#include "clients/media/file_media_store.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace market::clients {
namespace {

namespace fs = std::filesystem;

// sha256("hello")
constexpr std::string_view kHelloHash =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

std::string HelloKey(std::string_view extension) {
  return "2c/f2/" + std::string(kHelloHash) + "." + std::string(extension);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<fs::path> FilesUnder(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

class FileMediaStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "media-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(FileMediaStoreTest, StoresUnderTheSha256OfTheBytes) {
  FileMediaStore store(root_);
  std::string key = store.Put("hello", "webp");
  EXPECT_EQ(key, HelloKey("webp"));
  EXPECT_TRUE(IsMediaKey(key));
  EXPECT_EQ(ReadFile(root_ / key), "hello");
  EXPECT_EQ(store.Read(key), "hello");
  EXPECT_TRUE(store.Contains(key));
}

TEST_F(FileMediaStoreTest, StoresJpegAsJpgAndRefusesOtherExtensions) {
  FileMediaStore store(root_);
  EXPECT_EQ(store.Put("hello", "jpeg"), HelloKey("jpg"));
  EXPECT_EQ(store.Put("hello", "jpg"), HelloKey("jpg"));
  EXPECT_EQ(store.Put("hello", "png"), HelloKey("png"));
  EXPECT_THROW(store.Put("hello", "gif"), std::invalid_argument);
  EXPECT_THROW(store.Put("hello", "webp/../x"), std::invalid_argument);
}

TEST_F(FileMediaStoreTest, PuttingTheSameBytesAgainIsANoOp) {
  FileMediaStore store(root_);
  std::string first = store.Put("hello", "png");
  auto written_at = fs::last_write_time(root_ / first);
  std::string second = store.Put("hello", "png");
  EXPECT_EQ(first, second);
  EXPECT_EQ(fs::last_write_time(root_ / first), written_at);
  EXPECT_EQ(FilesUnder(root_).size(), 1u) << "no temporary file left behind";
  EXPECT_NE(store.Put("hello!", "png"), first);
}

TEST_F(FileMediaStoreTest, RewritesAFileCutShortByACrash) {
  FileMediaStore store(root_);
  std::string key = store.Put("hello", "png");
  fs::resize_file(root_ / key, 2);
  EXPECT_EQ(store.Put("hello", "png"), key);
  EXPECT_EQ(ReadFile(root_ / key), "hello");
}

TEST_F(FileMediaStoreTest, ConcurrentPutsOfTheSameBytesLeaveOneWholeFile) {
  FileMediaStore store(root_);
  std::string blob(256 * 1024, 'z');
  std::vector<std::string> keys(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    threads.emplace_back([&, i] { keys[i] = store.Put(blob, "webp"); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 1u);
  EXPECT_EQ(FilesUnder(root_).size(), 1u);
  EXPECT_EQ(ReadFile(root_ / keys[0]), blob);
}

TEST_F(FileMediaStoreTest, ReadsNothingForUnknownOrMalformedKeys) {
  FileMediaStore store(root_);
  store.Put("hello", "png");
  EXPECT_EQ(store.Read(HelloKey("webp")), std::nullopt);
  EXPECT_FALSE(store.Contains(HelloKey("webp")));
  EXPECT_EQ(store.Read("../../etc/passwd"), std::nullopt);
  EXPECT_FALSE(store.Contains("2c/f2"));
}

TEST_F(FileMediaStoreTest, ResolvesOnlyWellFormedKeysInsideTheRoot) {
  FileMediaStore store(root_);
  std::string hash(kHelloHash);
  auto good = store.PathFor(HelloKey("png"));
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, fs::absolute(root_) / "2c" / "f2" / (hash + ".png"));

  const std::string bad_keys[] = {
      "",
      "../etc/passwd",
      "/etc/passwd",
      "/2c/f2/" + hash + ".png",
      "2c/f2/../../../" + hash.substr(0, 55) + ".png",
      "2c/f2/" + hash + ".png/",
      "2c/f2/" + hash + ".png.exe",
      "2c/f2/" + hash + ".gif",
      "2c/f2/" + hash + ".PNG",
      "2c/f2/" + hash + ".jpeg",
      "2c/f2/" + hash,
      "2c/f2/" + hash.substr(1) + ".png",
      "2c/f2/" + hash + "0.png",
      "2C/F2/2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824.png",
      "ab/cd/" + hash + ".png",
      "2c\\f2\\" + hash + ".png",
      "2c/f2/" + hash.substr(0, 63) + "g.png",
      "2c/f2/" + hash.substr(0, 63) + "/.png",
      "2c//f2/" + hash + ".png",
      "2c/f2/." + hash + ".png",
      std::string("2c/f2/") + hash + std::string(".png\0", 5),
  };
  for (const auto& key : bad_keys) {
    EXPECT_FALSE(IsMediaKey(key)) << key;
    EXPECT_EQ(store.PathFor(key), std::nullopt) << key;
  }
}

}  // namespace
}  // namespace market::clients
