#include "clients/media/file_media_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace market::clients {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHashHexLength = crypto_hash_sha256_BYTES * 2;

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string ToHex(const unsigned char* bytes, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return ToHex(digest.data(), digest.size());
}

std::string_view StoredExtension(std::string_view extension) {
  if (extension == "jpg" || extension == "jpeg") return "jpg";
  if (extension == "png" || extension == "webp") return extension;
  throw std::invalid_argument("unsupported media extension: " + std::string(extension));
}

// Reads errno before anything else can change it.
[[noreturn]] void ThrowErrno(const char* operation, const fs::path& path) {
  int error = errno;
  throw std::system_error(error, std::generic_category(), operation + (" " + path.string()));
}

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Close reports write-back errors (NFS, quota): a caller that wrote must see them.
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

void WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

// A temporary name in the destination directory (rename is only atomic within one file system),
// unique per call so concurrent Puts of the same bytes do not share it, and dot-prefixed so that
// it can never be a key.
fs::path TemporaryPath(const fs::path& destination) {
  std::array<unsigned char, 8> nonce;
  randombytes_buf(nonce.data(), nonce.size());
  return destination.parent_path() /
         ("." + destination.filename().string() + ".tmp-" + ToHex(nonce.data(), nonce.size()));
}

void WriteAtomically(const fs::path& destination, std::string_view bytes) {
  fs::path temporary = TemporaryPath(destination);
  Descriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) ThrowErrno("create", temporary);
  try {
    WriteAll(fd.get(), bytes, temporary);
    if (fd.Close() != 0) ThrowErrno("close", temporary);
    if (::rename(temporary.c_str(), destination.c_str()) != 0) {
      ThrowErrno("rename", temporary);
    }
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
}

}  // namespace

bool IsMediaKey(std::string_view key) {
  // "ab/cd/" + 64 hex + "." + extension
  constexpr std::size_t kPrefix = 6;
  if (key.size() < kPrefix + kHashHexLength + 4) return false;
  std::string_view hash = key.substr(kPrefix, kHashHexLength);
  std::string_view rest = key.substr(kPrefix + kHashHexLength);
  return key[2] == '/' && key[5] == '/' && IsLowerHex(hash) &&
         key.substr(0, 2) == hash.substr(0, 2) && key.substr(3, 2) == hash.substr(2, 2) &&
         (rest == ".jpg" || rest == ".png" || rest == ".webp");
}

FileMediaStore::FileMediaStore(fs::path root) : root_(fs::absolute(std::move(root))) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string FileMediaStore::Put(std::string_view bytes, std::string_view extension) {
  std::string_view stored_extension = StoredExtension(extension);
  std::string hash = Sha256Hex(bytes);
  std::string key = hash.substr(0, 2) + "/" + hash.substr(2, 2) + "/" + hash + "." +
                    std::string(stored_extension);
  fs::path path = root_ / key;
  std::error_code ec;
  // Same name, same content: an existing file of the right size is this very blob.
  if (auto size = fs::file_size(path, ec); !ec && size == bytes.size()) return key;
  fs::create_directories(path.parent_path());
  WriteAtomically(path, bytes);
  return key;
}

std::optional<fs::path> FileMediaStore::PathFor(std::string_view key) const {
  if (!IsMediaKey(key)) return std::nullopt;
  return root_ / fs::path(key);
}

std::optional<std::string> FileMediaStore::Read(std::string_view key) const {
  auto path = PathFor(key);
  if (!path) return std::nullopt;
  Descriptor fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    ThrowErrno("open", *path);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) ThrowErrno("stat", *path);
  if (!S_ISREG(info.st_mode)) return std::nullopt;
  std::string bytes;
  bytes.resize(static_cast<std::size_t>(info.st_size));
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t got = ::read(fd.get(), bytes.data() + filled, bytes.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read", *path);
    }
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  bytes.resize(filled);
  return bytes;
}

bool FileMediaStore::Contains(std::string_view key) const {
  auto path = PathFor(key);
  if (!path) return false;
  std::error_code ec;
  return fs::is_regular_file(*path, ec);
}

}  // namespace market::clients
