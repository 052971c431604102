// libFuzzer entry: arbitrary bytes as the counter file (--counter file:PATH) that
// hiserve opens at start. Refused: one line, the file left as it was. Opened: the
// numbers it hands out never go below the file's mark, and what it writes back is a
// file it opens again, continuing above every number handed out.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "file_store.hpp"

namespace {

[[noreturn]] void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "counter file invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

std::string contents(int fd) {
  std::string s(4096, '\0');
  const ssize_t n = pread(fd, s.data(), s.size(), 0);
  s.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return s;
}

// The file's CRC-32 (IEEE, as zlib's), for inputs that ask for their records' CRCs to
// be made right: a fuzzer cannot find a valid checksum, and the numbers behind it need
// exploring too.
std::uint32_t crc32(const char* p, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= static_cast<unsigned char>(p[i]);
    for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

// One reservation of `size`, made synchronously as the file store makes them.
bool reserve(hiserve::FileStore& s, std::uint64_t size, std::uint64_t* base) {
  struct Result {
    bool ok = false;
    std::uint64_t base = 0;
  } r;
  s.reserve(size, [](void* ctx, bool ok, std::uint64_t b, std::uint64_t, const char*) {
    *static_cast<Result*>(ctx) = {ok, b};
  }, &r);
  *base = r.base;
  return r.ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte: 1 makes each record line's " crc=" field right for its first 50 bytes.
  std::string file(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] == 1) {
    for (std::size_t at = 64; at + 64 <= file.size(); at += 64) {
      char crc[9];
      std::snprintf(crc, sizeof crc, "%08x", crc32(file.data() + at, 50));
      if (file.compare(at + 50, 5, " crc=") == 0) file.replace(at + 55, 8, crc);
    }
  }
  const int fd = memfd_create("counter", MFD_CLOEXEC);
  if (fd < 0 || write(fd, file.data(), file.size()) != static_cast<ssize_t>(file.size())) std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const std::string before = contents(fd);
  std::string error;
  {
    auto store = hiserve::FileStore::open(path, &error);
    if (!store) {
      if (error.empty() || error.find('\n') != std::string::npos) broken("refusal not one line", error);
      if (contents(fd) != before) broken("a refused file was changed", error);
      close(fd);
      return 0;
    }
    std::uint64_t first = 0, second = 0;
    if (reserve(*store, 10, &first) && reserve(*store, 10, &second)) {
      if (first == 0 || second != first + 10) broken("leases out of order", std::to_string(first) + " " + std::to_string(second));
      store->release(second + 3);  // 3 of the second lease were handed out
      store.reset();
      auto again = hiserve::FileStore::open(path, &error);
      if (!again) broken("its own file refused", error);
      std::uint64_t third = 0;
      if (reserve(*again, 1, &third) && third != second + 3)
        broken("did not continue at the exact next number", std::to_string(third) + " after " + std::to_string(second + 3));
    }
  }
  close(fd);
  return 0;
}
