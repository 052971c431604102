#include "hiserve/http/session_pool.hpp"

#include <algorithm>
#include <new>

#include "hiserve/alloc.hpp"

namespace hiserve {

SessionPool::SessionPool(const SessionEnv& env) noexcept
    : env_(env), blocks_(mem::align_up(sizeof(Session), 16)) {}

SessionPool::~SessionPool() {
  parked_low_ = parked_count_;
  trim();
}

Session* SessionPool::take() noexcept {
  if (!parked_) return new (blocks_.get()) Session(env_);
  Session* s = parked_;
  parked_ = s->parked_next;
  parked_low_ = std::min(parked_low_, --parked_count_);
  return s;
}

void SessionPool::park(Session* s) noexcept {
  s->parked_next = parked_;
  parked_ = s;
  ++parked_count_;
}

void SessionPool::drop(Session* s) noexcept {
  s->~Session();
  blocks_.put(s);
}

std::size_t SessionPool::trim() noexcept {
  std::size_t n = 0;
  for (; n < parked_low_ && parked_; ++n) {
    Session* s = parked_;
    parked_ = s->parked_next;
    drop(s);
  }
  parked_count_ -= n;
  parked_low_ = parked_count_;
  return blocks_.trim();
}

}  // namespace hiserve
