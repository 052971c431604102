// The talk's race test: many clients hammer /hi on a multi-loop server; every visitor
// number must be handed out once, and together they must be 1..N. Run it in the
// -Db_sanitize=thread build to have TSan watch the loops.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "server_fixture.hpp"

using namespace test;

TEST_CASE("parallel clients on 4 loops: visitor numbers unique and contiguous") {
  RunningServer s(small_config(4));
  constexpr int kThreads = 8, kConnsPerThread = 5, kRequestsPerConn = 40;
  std::vector<std::vector<std::uint64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kConnsPerThread; ++c) {
        Client client(s.port());
        for (int i = 0; i < kRequestsPerConn; ++i) {
          if (!client.send("GET /hi?color=c HTTP/1.1\r\nHost: x\r\n\r\n")) return;
          auto r = client.read_response();
          if (!r) return;
          const std::string& b = r->body;
          std::size_t at = b.find("number ");
          if (at == std::string::npos) return;
          seen[t].push_back(std::stoull(b.substr(at + 7)));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::uint64_t> all;
  for (auto& v : seen) all.insert(all.end(), v.begin(), v.end());
  REQUIRE(all.size() == std::size_t{kThreads} * kConnsPerThread * kRequestsPerConn);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] != i + 1) {
      FAIL("number " << i + 1 << " missing or duplicated (found " << all[i] << ")");
    }
  }
  CHECK(s.server.visitors().tickets() == all.size());
}
