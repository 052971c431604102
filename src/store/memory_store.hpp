// --counter memory: the talk's behaviour, numbers from 1 every run. One lease of 2^62
// numbers, granted at once and never refilled.
#pragma once
#include "hiserve/counter.hpp"
#include "counter_store.hpp"

namespace hiserve {

class MemoryStore final : public CounterStore {
 public:
  const std::string& name() const noexcept override { return name_; }
  bool synchronous() const noexcept override { return true; }
  void reserve(std::uint64_t /*size*/, Done done, void* ctx) override {
    done(ctx, true, next_, kEveryNumber, nullptr);
    next_ += kEveryNumber;
  }

 private:
  std::string name_ = "memory";
  std::uint64_t next_ = 1;
};

}  // namespace hiserve
