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
  X(refill_worst_us, "microseconds the slowest lease took to arrive")                   \
  X(master_changes, "times Sentinel named another master")

struct StoreStatus {
#define HISERVE_STATUS_FIELD(name, what) std::uint64_t name = 0;
  HISERVE_STORE_STATUS(HISERVE_STATUS_FIELD)
#undef HISERVE_STATUS_FIELD
};

// What an upgrading hiserve hands its new process (docs/operations.md): the counter
// file's open fd, whose lock comes with it, and a first lease it reserved for it (none
// for Redis, where the new process reserves for itself from the start).
struct StoreHandover {
  int file_fd = -1;
  std::uint64_t lease_base = 0, lease_size = 0;
  bool failed = false;  // the store could not reserve that lease: no upgrade now
};

class StoreThread {
 public:
  virtual ~StoreThread() = default;
  // Parses spec (docs/counter.md's --counter: "file:PATH", "redis://...", "memory") and opens the
  // store: a file is read, locked and its first lease reserved (so the server starts
  // with numbers ready); a Redis URL is checked, and connected to later. nullptr and a
  // one-line *error when the spec is bad or the store refuses.
  // With `from`, the store is the one an upgrading hiserve handed over: with a lease,
  // the thread serves it and reserves nothing until resume().
  static std::unique_ptr<StoreThread> open(const std::string& spec, std::uint64_t block, std::string* error,
                                           const StoreHandover* from = nullptr);

  virtual LeasedCounter& counter() noexcept = 0;
  // Starts the thread that keeps leases coming (nothing for memory).
  virtual void start() = 0;
  // After every loop has stopped: records the exact next number where the store can
  // (a file), and joins the thread. Idempotent.
  virtual void stop() noexcept = 0;
  virtual StoreStatus status() const noexcept = 0;
  // Behind Sentinel, the master leases come from ("HOST:PORT"); "" elsewhere.
  virtual std::string master() const = 0;

  // The upgrade's handover (docs/operations.md). In the old process: the store's fd
  // and a lease reserved for the new process, not for this one (blocks for one
  // reservation); then, once the new process serves, pause() reserves one last lease
  // for this process's drain and stops reserving (a file or memory; Redis goes on, as
  // any two instances do), and says where memory's reservations end (0 for the
  // others); disown() has stop() record nothing (the exact next it would write could
  // roll the file back below the new process's leases).
  virtual int handover_fd() const noexcept = 0;  // -1: none
  virtual StoreHandover lease_for_handover() noexcept = 0;
  virtual std::uint64_t pause() noexcept = 0;
  virtual void disown() noexcept = 0;
  // In the new process, once the old one has paused: reserves from here on, above
  // everything the old process reserved (`memory_next`: where memory's ended).
  virtual void resume(std::uint64_t memory_next) noexcept = 0;
};

}  // namespace hiserve
