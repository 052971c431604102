// Where the visitor count lives (docs/counter.md): a LeasedCounter and the
// store that feeds it leases — a file (the default), Redis, or memory — with the thread
// that keeps the next lease ready so no request ever waits on a disk or a network.
// The store layer's public face: no libuv here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "hiserve/counter.hpp"

namespace hiserve {

// Under load a lease grows (doubling) up to this many times --counter-block.
inline constexpr std::uint64_t kMaxBlockGrowth = 64;

// The counter store's state, listed once for --stats-interval and the metrics:
// X(name, what it is).
#define HISERVE_STORE_STATUS(X)                                                       \
  X(up, "1 when the last lease reservation succeeded")                                  \
  X(outages, "times the store went down")                                               \
  X(recoveries, "times it came back")                                                   \
  X(leases, "leases installed")                                                         \
  X(left, "leased numbers not handed out yet")                                          \
  X(unavailable, "/hi answers 503 for want of a leased number")                         \
  X(served, "visitor numbers handed out")                                               \
  X(block, "numbers per lease, now")                                                    \
  X(refill_last_us, "microseconds the last lease took to arrive")                       \
  X(refill_worst_us, "microseconds the slowest lease took to arrive")

struct StoreStatus {
#define HISERVE_STATUS_FIELD(name, what) std::uint64_t name = 0;
  HISERVE_STORE_STATUS(HISERVE_STATUS_FIELD)
#undef HISERVE_STATUS_FIELD
};

class StoreThread {
 public:
  virtual ~StoreThread() = default;
  // Parses spec (docs/counter.md's --counter: "file:PATH", "redis://...", "memory") and opens the
  // store: a file is read, locked and its first lease reserved (so the server starts
  // with numbers ready); a Redis URL is checked, and connected to later. nullptr and a
  // one-line *error when the spec is bad or the store refuses.
  static std::unique_ptr<StoreThread> open(const std::string& spec, std::uint64_t block, std::string* error);

  virtual LeasedCounter& counter() noexcept = 0;
  // Starts the thread that keeps leases coming (nothing for memory).
  virtual void start() = 0;
  // After every loop has stopped: records the exact next number where the store can
  // (a file), and joins the thread. Idempotent.
  virtual void stop() noexcept = 0;
  virtual StoreStatus status() const noexcept = 0;
};

}  // namespace hiserve
