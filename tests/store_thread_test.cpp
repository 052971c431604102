// The visitor stores opened for real: the counter file (created, locked, recorded,
// refused when it is not whole), the --counter specs, and what the binary says when
// its store is bad.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <thread>
#include <iterator>
#include <string>

#include "http_client.hpp"
#include "process.hpp"
#include "hiserve/store/store_thread.hpp"

using hiserve::StoreThread;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// The "next" of the newest whole record in a counter file.
unsigned long long recorded_next(const std::string& file) {
  unsigned long long best_seq = 0, next = 0;
  for (int slot = 0; slot < 2; ++slot) {
    unsigned long long n = 0, seq = 0;
    if (std::sscanf(file.c_str() + 64 * (1 + slot), "next=%llu seq=%llu", &n, &seq) == 2 && seq >= best_seq)
      best_seq = seq, next = n;
  }
  return next;
}

// A whole record line, as hiserve writes one (CRC-32 of its first 50 bytes).
std::string record(unsigned long long next, unsigned long long seq) {
  char line[65];
  std::snprintf(line, sizeof line, "next=%020llu seq=%020llu", next, seq);
  std::uint32_t c = 0xFFFFFFFFu;
  for (int i = 0; i < 50; ++i) {
    c ^= static_cast<unsigned char>(line[i]);
    for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  std::snprintf(line + 50, sizeof line - 50, " crc=%08x\n", c ^ 0xFFFFFFFFu);
  return line;
}

// A number, waiting (as a client retrying after a 503 would) while a lease arrives.
std::uint64_t take(StoreThread& s) {
  for (int i = 0; i < 5000; ++i) {
    if (std::uint64_t n = s.counter().take()) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

std::unique_ptr<StoreThread> open_store(const std::string& spec, std::string* err, std::uint64_t block = 10) {
  err->clear();
  return StoreThread::open(spec, block, err);
}

}  // namespace

TEST_CASE("file store: created at 1, numbers durable before use, the exact next number recorded at a stop") {
  test::TempDir dir;
  const std::string path = dir.path + "/visitors";
  std::string err;
  {
    auto s = open_store("file:" + path, &err);
    REQUIRE_MESSAGE(s, err);
    // The first lease is reserved before any number is used.
    CHECK(recorded_next(slurp(path)) == 11);
    s->start();
    for (std::uint64_t want = 1; want <= 3; ++want) CHECK(take(*s) == want);
    s->stop();
  }
  CHECK(slurp(path).size() == 192);
  CHECK(recorded_next(slurp(path)) == 4);
  {
    auto s = open_store("file:" + path, &err);
    REQUIRE(s);
    s->start();
    for (std::uint64_t want = 4; want <= 30; ++want) CHECK(take(*s) == want);  // across leases, no gap
    CHECK(s->status().leases >= 3);
    CHECK(s->status().up == 1);
  }  // the destructor stops it too
  CHECK(recorded_next(slurp(path)) == 31);
  {
    auto s = open_store("file:" + path, &err);
    REQUIRE(s);
  }  // opened, never started: what it reserved is handed back
  CHECK(recorded_next(slurp(path)) == 31);
}

TEST_CASE("file store: no lease passes 2^62, so the count never wraps to numbers given before") {
  test::TempDir dir;
  const std::string path = dir.path + "/visitors";
  std::string err;
  CHECK_FALSE(open_store("file:" + path, &err, hiserve::kEveryNumber));  // 1 + 2^62 - 1 is the last
  CHECK(err.find("the lease would pass 2^62") != std::string::npos);
  CHECK(recorded_next(slurp(path)) == 1);  // nothing reserved
  auto s = open_store("file:" + path, &err, hiserve::kEveryNumber - 1);
  REQUIRE(s);
  CHECK(recorded_next(slurp(path)) == hiserve::kEveryNumber);
}

TEST_CASE("file store: a second hiserve on the same file is refused while the first holds it") {
  test::TempDir dir;
  const std::string spec = "file:" + dir.path + "/visitors";
  std::string err;
  auto first = open_store(spec, &err);
  REQUIRE(first);
  CHECK_FALSE(open_store(spec, &err));
  CHECK(err.find("in use by another hiserve") != std::string::npos);
  first.reset();
  CHECK(open_store(spec, &err));
}

TEST_CASE("file store: a file that is not whole is refused and left as it was; a torn record falls back") {
  test::TempDir dir;
  const std::string path = dir.path + "/visitors";
  std::string err;
  { REQUIRE(open_store("file:" + path, &err)); }
  const std::string good = slurp(path);
  REQUIRE(good.size() == 192);
  std::string both_torn = good;
  both_torn[64 + 20] ^= 1, both_torn[128 + 20] ^= 1;
  const std::pair<std::string, const char*> bad[] = {
      {"", "empty"},
      {good.substr(0, 100), "corrupt"},
      {good + "x", "corrupt"},
      {both_torn, "corrupt"},
      {std::string(192, 'z'), "not a hiserve counter file"},
      {"next=5\n", "not a hiserve counter file"},
  };
  for (const auto& [bytes, why] : bad) {
    CAPTURE(why);
    spit(path, bytes);
    CHECK_FALSE(open_store("file:" + path, &err));
    CHECK(err.find(why) != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
    CHECK(slurp(path) == bytes);  // untouched: never a silent restart at 1
  }
  // A crash mid-write tears one record: the other, whole one is used.
  std::string one_torn = good;
  one_torn[64 + 3] = 'X';
  spit(path, one_torn);
  auto s = open_store("file:" + path, &err);
  REQUIRE_MESSAGE(s, err);
  CHECK(s->counter().take() >= 1);
  CHECK_FALSE(open_store("file:" + dir.path, &err));  // a directory
  CHECK(err.find("cannot open") != std::string::npos);
}

TEST_CASE("file store: the record written after seq 2^64-1 (seq 0) is the newest, so a crash then repeats nothing") {
  test::TempDir dir;
  const std::string path = dir.path + "/visitors";
  std::string err;
  { REQUIRE(open_store("file:" + path, &err)); }
  const std::string header = slurp(path).substr(0, 64);
  spit(path, header + record(100, ~0ull) + std::string(63, 'x') + "\n");  // the other record torn
  std::string after_crash;
  {
    auto s = open_store("file:" + path, &err);
    REQUIRE_MESSAGE(s, err);
    // The lease, its sequence wrapped; hiserve wrote it as the test formats records.
    CHECK(slurp(path).substr(128, 64) == record(110, 0));
    s->start();
    for (std::uint64_t want = 100; want <= 102; ++want) CHECK(take(*s) == want);
    after_crash = slurp(path);  // what a kill -9 here would leave
  }
  // A graceful stop: the exact next number, at seq 1.
  auto s = open_store("file:" + path, &err);
  REQUIRE_MESSAGE(s, err);
  s->start();
  CHECK(take(*s) == 103);
  s.reset();
  // The crash: the lease's record (seq 0) is the mark, not the one before it (seq 2^64-1).
  spit(path, after_crash);
  s = open_store("file:" + path, &err);
  REQUIRE_MESSAGE(s, err);
  s->start();
  CHECK(take(*s) == 110);
}

TEST_CASE("--counter specs: a bad one is one line, a good one opens") {
  std::string err;
  for (const char* spec : {"", "mysql://x", "file:", "memory:", "redis://", "redis://:@", "redis://h:0", "redis://h:70000",
                           "redis://h/abc", "redis://h?x=1", "redis://u@h", "redis://h?key=", "redis://[::1",
                           "redis://h:6379/1/2", "redis://h:65536"}) {
    CAPTURE(spec);
    CHECK_FALSE(open_store(spec, &err));
    CHECK_FALSE(err.empty());
    CHECK(err.find('\n') == std::string::npos);
  }
  // Credentials never reach a log, whatever is wrong with the URL, whatever its scheme,
  // '@' in the password or in the query included.
  for (const char* spec : {"redis://user:secret@h:x", "rediss://:secret@h", "redis-sentinel://:secret@h:26379",
                           "redis://:sec@ret@h:1/x", "redis://:secret@h:1?key=a@b&x=1", "mysql://u:secret@h/x"}) {
    CAPTURE(spec);
    CHECK_FALSE(open_store(spec, &err));
    CHECK(err.find("secret") == std::string::npos);
    CHECK(err.find("ret@") == std::string::npos);
    CHECK(err.find("***@h") != std::string::npos);
  }
  for (const char* spec : {"memory", "redis://h", "redis://:pw@h:6380/2?key=k", "redis://u:p%40ss@[::1]:7000"}) {
    CAPTURE(spec);
    CHECK(open_store(spec, &err));  // Redis is only connected to once started
  }
}

TEST_CASE("the binary: a bad store is one line on stderr, a non-zero exit, and nothing listens") {
  test::TempDir dir;
  const std::string garbage = dir.path + "/garbage";
  spit(garbage, "hello\n");
  const std::string held = "file:" + dir.path + "/held";
  std::string err;
  auto holder = open_store(held, &err);
  REQUIRE(holder);
  for (const std::string& spec : {std::string("postgres://x"), "file:" + garbage, held, "file:" + dir.path,
                                  std::string("redis://h:0")}) {
    CAPTURE(spec);
    test::Process p({test::hiserve_binary(), "--port", "0", "--counter", spec});
    const int status = p.wait();
    const std::string out = p.rest();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) != 0);
    CHECK(out.find("Starting on port") == std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  }
  CHECK(slurp(garbage) == "hello\n");
}

TEST_CASE("the binary: a missing counter file is created at 1; a graceful restart continues with the next number") {
  test::TempDir dir;
  const std::string spec = "file:" + dir.path + "/visitors";
  for (int run = 0; run < 2; ++run) {
    test::Hiserve h({"--counter", spec, "--threads", "2"});
    for (int i = 1; i <= 3; ++i) {
      auto r = test::fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n");
      REQUIRE(r);
      CHECK(r->body.find("visitor number " + std::to_string(run * 3 + i) + "!") != std::string::npos);
    }
    h.proc.signal(SIGTERM);
    CHECK(h.proc.wait() == 0);
  }
  CHECK(recorded_next(slurp(dir.path + "/visitors")) == 7);
}
