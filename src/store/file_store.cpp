#include "file_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "hiserve/counter.hpp"

namespace hiserve {
namespace {

constexpr std::size_t kLine = 64;
constexpr std::size_t kFileSize = 3 * kLine;
constexpr std::size_t kCrcSpan = 50;  // "next=" 20 digits " seq=" 20 digits
// The header line: what the file is, padded to a line.
constexpr char kHeader[kLine + 1] = "hiserve visitor counter v1: header, then two records           \n";
static_assert(sizeof kHeader == kLine + 1);

constexpr auto kCrcTable = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();
std::uint32_t crc32(const char* p, std::size_t n) noexcept {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = kCrcTable[(c ^ static_cast<unsigned char>(p[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// Formats a record line into out (kLine bytes).
void format_record(char* out, std::uint64_t next, std::uint64_t seq) noexcept {
  char line[kLine + 1];
  std::snprintf(line, sizeof line, "next=%020llu seq=%020llu", static_cast<unsigned long long>(next),
                static_cast<unsigned long long>(seq));
  std::snprintf(line + kCrcSpan, sizeof line - kCrcSpan, " crc=%08x\n", crc32(line, kCrcSpan));
  std::memcpy(out, line, kLine);
}

// Parses a record line; false if it is not a whole, checksummed record.
bool parse_record(const char* line, std::uint64_t* next, std::uint64_t* seq) noexcept {
  char copy[kLine + 1];
  std::memcpy(copy, line, kLine);
  copy[kLine] = 0;
  unsigned long long n = 0, s = 0;
  unsigned crc = 0;
  int used = 0;
  if (std::sscanf(copy, "next=%20llu seq=%20llu crc=%8x\n%n", &n, &s, &crc, &used) != 3 || used != static_cast<int>(kLine))
    return false;
  char expect[kLine];
  format_record(expect, n, s);
  if (std::memcmp(expect, line, kLine) != 0 || crc != crc32(line, kCrcSpan) || n == 0) return false;
  *next = n, *seq = s;
  return true;
}

// Whether record sequence a is newer than b. Serial-number order (RFC 1982): the
// write after seq 2^64-1 is seq 0, and it must still win over the record it follows.
bool newer(std::uint64_t a, std::uint64_t b) noexcept { return static_cast<std::int64_t>(a - b) > 0; }

int write_all(int fd, const char* p, std::size_t n, off_t at) noexcept {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    p += w, n -= static_cast<std::size_t>(w), at += w;
  }
  return 0;
}

// Creates path holding next=1, all at once: a whole file under a temporary name, made
// durable, then linked into place (never over another hiserve's file).
int create_file(const std::string& path) noexcept {
  const std::string tmp = path + ".new." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  char content[kFileSize];
  std::memcpy(content, kHeader, kLine);
  format_record(content + kLine, 1, 1);
  format_record(content + 2 * kLine, 1, 0);
  int err = write_all(fd, content, kFileSize, 0);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) err = errno;
  ::unlink(tmp.c_str());
  if (err == 0) {  // the new name is durable once its directory is
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) ::fsync(dfd), ::close(dfd);
  }
  return err;
}

}  // namespace

std::unique_ptr<FileStore> FileStore::open(const std::string& path, std::string* error) {
  const std::string name = "file:" + path;
  auto fail = [&](const std::string& why) {
    *error = name + ": " + why;
    return nullptr;
  };
  if (path.empty()) return fail("no path");
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (int err = create_file(path)) return fail(std::string("cannot create: ") + std::strerror(err));
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return fail(std::string("cannot open: ") + std::strerror(errno));
  return load(fd, name, error);
}

std::unique_ptr<FileStore> FileStore::adopt(int fd, const std::string& path, std::string* error) {
  return load(fd, "file:" + path, error);
}

std::unique_ptr<FileStore> FileStore::load(int fd, const std::string& name, std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = name + ": " + why;
    return nullptr;
  };
  std::unique_ptr<FileStore> s(new FileStore(fd, name));
  // A handed-over fd shares its open file description, and so the lock, with the old
  // process's: this succeeds there and nowhere else.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return fail(errno == EWOULDBLOCK ? "in use by another hiserve (it holds the file's lock)"
                                     : std::string("cannot lock: ") + std::strerror(errno));
  }
  const std::string why = s->read_newest();
  if (!why.empty()) return fail(why);
  return s;
}

std::string FileStore::read_newest() noexcept {
  char content[kFileSize + 1];
  const ssize_t n = ::pread(fd_, content, sizeof content, 0);
  if (n < 0) return std::string("cannot read: ") + std::strerror(errno);
  if (n == 0) return "empty: not a hiserve counter file (hiserve creates its file whole)";
  if (static_cast<std::size_t>(n) < kLine || std::memcmp(content, kHeader, kLine) != 0) return "not a hiserve counter file";
  if (static_cast<std::size_t>(n) != kFileSize) return "corrupt: " + std::to_string(n) + " bytes, not 192";
  bool found = false;
  for (int slot = 0; slot < 2; ++slot) {
    std::uint64_t next = 0, seq = 0;
    if (parse_record(content + kLine * (1 + slot), &next, &seq) && (!found || newer(seq, seq_))) {
      found = true;
      next_ = next, seq_ = seq, newest_slot_ = slot;
    }
  }
  if (!found) return "corrupt: neither record is whole";
  // Past the last number hiserve hands out a lease would wrap around to numbers
  // already given.
  if (next_ > kEveryNumber) return "corrupt: its mark is past 2^62, the last visitor number";
  return "";
}

void FileStore::resync(std::uint64_t) noexcept {
  const std::uint64_t mine = next_, my_seq = seq_;
  const int my_slot = newest_slot_;
  if (!read_newest().empty() || newer(my_seq, seq_)) next_ = mine, seq_ = my_seq, newest_slot_ = my_slot;
  if (next_ < mine) next_ = mine;
}

FileStore::~FileStore() { ::close(fd_); }

int FileStore::write_record(std::uint64_t next) noexcept {
  char line[kLine];
  format_record(line, next, seq_ + 1);
  const int slot = 1 - newest_slot_;  // the older record: the newest stays whole meanwhile
  if (int err = write_all(fd_, line, kLine, static_cast<off_t>(kLine * (1 + slot)))) return err;
  if (::fdatasync(fd_) != 0) return errno;
  ++seq_;
  newest_slot_ = slot;
  return 0;
}

void FileStore::reserve(std::uint64_t size, Done done, void* ctx) {
  const std::uint64_t base = next_;
  if (size > kEveryNumber - base) return done(ctx, false, 0, 0, "the lease would pass 2^62, the last visitor number");
  if (int err = write_record(base + size)) return done(ctx, false, 0, 0, std::strerror(err));
  next_ = base + size;
  done(ctx, true, base, size, nullptr);
}

void FileStore::release(std::uint64_t next) noexcept {
  // Numbers from `next` were reserved and never handed out: the next start takes them.
  if (next != 0 && next < next_ && write_record(next) == 0) next_ = next;
}

}  // namespace hiserve
