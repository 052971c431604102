// How long a lease takes to come from each store: N reservations back to back through
// the store's own code (the one hiserve's store thread runs), timed one by one.
//
//   build/bench/refill_times file:/tmp/x.counter 1000 [BLOCK]
//   build/bench/refill_times redis://127.0.0.1:6379 1000 [BLOCK]
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "file_store.hpp"
#include "redis_store.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: refill_times file:PATH|redis://... COUNT [BLOCK]\n");
    return 2;
  }
  const std::string spec = argv[1];
  const int count = std::atoi(argv[2]);
  const std::uint64_t block = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1000;
  std::string error;
  std::unique_ptr<hiserve::CounterStore> store;
  if (spec.rfind("file:", 0) == 0) store = hiserve::FileStore::open(spec.substr(5), &error);
  else store = hiserve::RedisStore::parse(spec, &error);
  if (!store) {
    std::fprintf(stderr, "refill_times: %s\n", error.c_str());
    return 1;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  store->attach(&loop);
  struct Result {
    bool done = false, ok = false;
    std::string why;
  } result;
  std::vector<double> us;
  for (int i = 0; i < count; ++i) {
    result = {};
    const auto t0 = std::chrono::steady_clock::now();
    store->reserve(block, [](void* ctx, bool ok, std::uint64_t, std::uint64_t, const char* why) {
      auto& r = *static_cast<Result*>(ctx);
      r.done = true, r.ok = ok, r.why = why ? why : "";
    }, &result);
    while (!result.done) uv_run(&loop, UV_RUN_ONCE);
    if (!result.ok) {
      std::fprintf(stderr, "refill_times: %s\n", result.why.c_str());
      return 1;
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  store->detach();
  uv_run(&loop, UV_RUN_DEFAULT);
  std::sort(us.begin(), us.end());
  std::printf("%s: %d leases of %llu: median %.0f us, p99 %.0f us, worst %.0f us\n", store->name().c_str(), count,
              static_cast<unsigned long long>(block), us[us.size() / 2], us[us.size() * 99 / 100], us.back());
  return 0;
}
