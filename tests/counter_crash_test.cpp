// The file store against crashes: the real binary under load from several client
// threads, killed with SIGKILL at random moments (reservations are being written all
// the time with a 3-number block) and restarted, 20 times; then stopped gracefully.
// Every number ever answered is unique across all runs, each crash skips at most what
// was reserved, and a graceful restart continues with the exact next number.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <random>
#include <set>

#include "http_client.hpp"
#include "load_clients.hpp"
#include "process.hpp"

TEST_CASE("file store: kill -9 under load 20 times; no number twice, each crash skips at most two blocks") {
  test::TempDir dir;
  const std::string spec = "file:" + dir.path + "/visitors";
  constexpr std::uint64_t kBlock = 3, kMaxBlock = 64 * kBlock;
  constexpr int kCrashes = 20, kClients = 4;
  std::mt19937 rng(20261126);
  std::set<std::uint64_t> seen;
  std::uint64_t before_max = 0;  // the highest number answered by the runs before
  std::uint64_t worst_skip = 0;
  for (int run = 0; run <= kCrashes; ++run) {
    CAPTURE(run);
    test::Hiserve h({"--counter", spec, "--counter-block", std::to_string(kBlock), "--threads", "2"});
    std::vector<std::atomic<int>> ports(1);
    ports[0] = h.port;
    test::LoadClients clients(ports, kClients);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 120));
    std::vector<std::uint64_t> numbers;
    if (run < kCrashes) {
      h.proc.signal(SIGKILL);
      h.proc.wait();
      numbers = clients.stop();
    } else {  // the last run: clients stop first, then a graceful stop
      numbers = clients.stop();
      h.proc.signal(SIGTERM);
      CHECK(h.proc.wait() == 0);
    }
    REQUIRE_FALSE(numbers.empty());
    std::sort(numbers.begin(), numbers.end());
    for (std::uint64_t n : numbers) {
      if (!seen.insert(n).second) FAIL_CHECK("number " << n << " answered twice");
    }
    // A crash skips at most the two leases reserved ahead of use (plus the numbers
    // taken for answers that died with the process, at most one per client).
    if (run > 0) {
      CHECK(numbers.front() > before_max);
      worst_skip = std::max(worst_skip, numbers.front() - before_max - 1);
      CHECK(numbers.front() - before_max - 1 <= 2 * kMaxBlock + kClients);
    }
    before_max = numbers.back();
  }
  // After the graceful stop the next start continues with the exact next number.
  test::Hiserve h({"--counter", spec});
  auto r = test::fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->body.find("visitor number " + std::to_string(before_max + 1) + "!") != std::string::npos);
  MESSAGE(seen.size() << " numbers over " << kCrashes << " crashes; the largest skip was " << worst_skip);
}
