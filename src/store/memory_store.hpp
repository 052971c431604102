// --counter memory: the talk's behaviour, numbers from 1 every run. Leases are reserved
// like the other stores' (nothing durable), so that an upgrade can hand the new process
// the first number never reserved and the count goes on with no number twice. They are
// at least 2^20 numbers: half of one lasts longer than any store thread's wake-up, so
// memory never answers 503, and an upgrade skips at most two of them.
#pragma once
#include <algorithm>

#include "hiserve/counter.hpp"
#include "counter_store.hpp"

namespace hiserve {

class MemoryStore final : public CounterStore {
 public:
  const std::string& name() const noexcept override { return name_; }
  bool synchronous() const noexcept override { return true; }
  void reserve(std::uint64_t size, Done done, void* ctx) override {
    size = std::max(size, kLease);
    if (size > kEveryNumber - next_) return done(ctx, false, 0, 0, "the lease would pass 2^62, the last visitor number");
    done(ctx, true, next_, size, nullptr);
    next_ += size;
  }
  std::uint64_t next_unreserved() const noexcept override { return next_; }
  void resync(std::uint64_t next) noexcept override { next_ = std::max(next_, next); }

 private:
  static constexpr std::uint64_t kLease = std::uint64_t{1} << 20;
  std::string name_ = "memory";
  std::uint64_t next_ = 1;
};

}  // namespace hiserve
