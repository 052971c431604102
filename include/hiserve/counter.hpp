// The visitor counter every loop shares, fed by leases: blocks of numbers a store
// reserved (durably) before any of them is handed out. Taking a number is one relaxed
// fetch_add on a ticket and a read of the lease it falls in; leases may be of any size
// and need not be contiguous (Redis interleaves instances). No I/O here: a store
// thread calls install() and is told, through on_refill, when to reserve the next.
//
// Tickets count every take() since start and map to numbers through the leases:
// ticket t in a lease [first, first + size) is number base + (t - first). A lease
// installed ahead starts where the previous one ends, so tickets flow into it with no
// gap; one installed after they ran out starts at the ticket then reached (the
// tickets taken meanwhile got a 503). A ticket is taken once, so no number is handed
// out twice.
#pragma once
#include <atomic>
#include <cstdint>

namespace hiserve {

// A lease of every number a store will ever hand out: --counter memory's, and tests'.
inline constexpr std::uint64_t kEveryNumber = std::uint64_t{1} << 62;

class LeasedCounter {
 public:
  LeasedCounter() noexcept = default;
  LeasedCounter(const LeasedCounter&) = delete;
  LeasedCounter& operator=(const LeasedCounter&) = delete;

  // The next visitor number, or 0 when no leased number is left (answer 503). Any
  // thread. When the lease it comes from is half used, or none is left, asks for a
  // refill (once, until install() answers).
  std::uint64_t take() noexcept;

  // Store side (one thread). Installs numbers [base, base + size) as the next lease.
  void install(std::uint64_t base, std::uint64_t size) noexcept;
  // Called (from a taking thread) when a refill is wanted; must be thread-safe and
  // cheap (a uv_async_send). Set before the loops start.
  void on_refill(void (*fn)(void*), void* ctx) noexcept { refill_fn_ = fn, refill_ctx_ = ctx; }
  // Takes the pending refill request, if any (the store thread, when it wakes).
  bool take_refill_request() noexcept { return refill_wanted_.exchange(false, std::memory_order_acq_rel); }
  // Whether a lease should be reserved now: none is installed, or the newest is half
  // used (so no more than one lease is ever reserved ahead of the one in use).
  bool needs_lease() const noexcept;
  // Once every taking thread has stopped: the lowest number not handed out and not
  // skipped (the exact next number to record at a graceful stop), or 0 if no lease.
  std::uint64_t next_unused() const noexcept;
  // Leased numbers not handed out yet (approximate while loops run).
  std::uint64_t left() const noexcept;
  // take() calls so far.
  std::uint64_t tickets() const noexcept { return ticket_.load(std::memory_order_relaxed); }
  // take() calls that found no number (answered 503).
  std::uint64_t unavailable() const noexcept { return unavailable_.load(std::memory_order_relaxed); }
  // Leases installed.
  std::uint64_t leases() const noexcept { return installed_.load(std::memory_order_relaxed); }

 private:
  // A lease in a ring of slots, read under a sequence lock: the store thread rewrites a
  // slot only four leases later, but a reader must never act on a half-written one.
  struct Lease {
    std::uint64_t first, base, size;
  };
  struct alignas(64) Slot {
    std::atomic<std::uint32_t> seq{0};  // odd while being written
    std::atomic<std::uint64_t> first{0}, base{0}, size{0};
  };
  static constexpr unsigned kSlots = 4;
  Lease read(unsigned slot) const noexcept;
  // Calls visit(lease) on the leases still in the ring, newest first, until it says true.
  template <class Visit>
  void walk(std::uint64_t installed, Visit visit) const noexcept;
  // The ticket at which the next lease is asked for: when half of this one is used.
  static std::uint64_t refill_mark(const Lease& l) noexcept { return l.first + l.size / 2; }
  void request_refill() noexcept;

  alignas(64) std::atomic<std::uint64_t> ticket_{0};  // the one shared write per take()
  alignas(64) std::atomic<std::uint64_t> installed_{0};
  Slot slots_[kSlots];
  alignas(64) std::atomic<bool> refill_wanted_{false};
  std::atomic<std::uint64_t> unavailable_{0};
  void (*refill_fn_)(void*) = nullptr;
  void* refill_ctx_ = nullptr;
};

}  // namespace hiserve
