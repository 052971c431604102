#include "hiserve/counter.hpp"

namespace hiserve {

LeasedCounter::Lease LeasedCounter::read(unsigned slot) const noexcept {
  const Slot& s = slots_[slot % kSlots];
  for (;;) {
    const std::uint32_t before = s.seq.load(std::memory_order_acquire);
    const Lease l{s.first.load(std::memory_order_relaxed), s.base.load(std::memory_order_relaxed),
                  s.size.load(std::memory_order_relaxed)};
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((before & 1) == 0 && s.seq.load(std::memory_order_relaxed) == before) return l;
  }
}

template <class Visit>
void LeasedCounter::walk(std::uint64_t installed, Visit visit) const noexcept {
  for (std::uint64_t g = installed; g > 0 && g + kSlots > installed; --g)
    if (visit(read(static_cast<unsigned>(g - 1)))) return;
}

void LeasedCounter::request_refill() noexcept {
  if (!refill_wanted_.exchange(true, std::memory_order_acq_rel) && refill_fn_) refill_fn_(refill_ctx_);
}

std::uint64_t LeasedCounter::take() noexcept {
  const std::uint64_t t = ticket_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t number = 0;
  // Newest lease first: nearly every ticket is in it or in the one before.
  walk(installed_.load(std::memory_order_acquire), [&](const Lease& l) {
    if (t < l.first) return false;  // an older lease's ticket
    if (t - l.first < l.size) {     // else past the lease that would hold it: none left
      if (t == refill_mark(l)) request_refill();
      number = l.base + (t - l.first);
    }
    return true;
  });
  if (number != 0) return number;  // numbers start at 1
  unavailable_.fetch_add(1, std::memory_order_relaxed);
  request_refill();
  return 0;
}

void LeasedCounter::install(std::uint64_t base, std::uint64_t size) noexcept {
  const std::uint64_t n = installed_.load(std::memory_order_relaxed);
  std::uint64_t first = 0;
  if (n > 0) {
    const Lease last = read(static_cast<unsigned>(n - 1));
    first = last.first + last.size;
  }
  // Tickets that ran past the last lease were answered 503; the new lease starts at
  // the ticket reached, not behind it.
  const std::uint64_t reached = ticket_.load(std::memory_order_relaxed);
  if (reached > first) first = reached;
  Slot& s = slots_[n % kSlots];
  const std::uint32_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.first.store(first, std::memory_order_relaxed);
  s.base.store(base, std::memory_order_relaxed);
  s.size.store(size, std::memory_order_relaxed);
  s.seq.store(seq + 2, std::memory_order_release);
  installed_.store(n + 1, std::memory_order_release);
}

bool LeasedCounter::needs_lease() const noexcept {
  const std::uint64_t n = installed_.load(std::memory_order_acquire);
  if (n == 0) return true;
  return ticket_.load(std::memory_order_relaxed) >= refill_mark(read(static_cast<unsigned>(n - 1)));
}

std::uint64_t LeasedCounter::next_unused() const noexcept {
  const std::uint64_t n = installed_.load(std::memory_order_acquire);
  if (n == 0) return 0;
  const std::uint64_t t = ticket_.load(std::memory_order_relaxed);
  const Lease newest = read(static_cast<unsigned>(n - 1));
  std::uint64_t next = newest.base + newest.size;  // every leased number was used
  walk(n, [&](const Lease& l) {
    if (t < l.first) {
      next = l.base;  // none of this lease was used
      return false;
    }
    if (t - l.first < l.size) next = l.base + (t - l.first);
    return true;
  });
  return next;
}

std::uint64_t LeasedCounter::left() const noexcept {
  const std::uint64_t n = installed_.load(std::memory_order_acquire);
  const std::uint64_t t = ticket_.load(std::memory_order_relaxed);
  std::uint64_t left = 0;
  walk(n, [&](const Lease& l) {
    const std::uint64_t end = l.first + l.size;
    if (end <= t) return true;
    left += end - (t > l.first ? t : l.first);
    return false;
  });
  return left;
}

}  // namespace hiserve
