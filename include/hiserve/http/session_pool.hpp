// A loop's sessions. Their memory comes from a BlockPool; sessions whose connections
// went idle wait here constructed, so a connection's next request takes one with a pop
// and a restart from its memo. Like BlockPool's free list, the parked sessions a whole
// trim period did not need are destroyed at the next trim(). Not thread-safe: one per loop.
#pragma once
#include <cstddef>

#include "hiserve/block_pool.hpp"
#include "hiserve/http/session.hpp"

namespace hiserve {

class SessionPool {
 public:
  explicit SessionPool(const SessionEnv& env) noexcept;
  ~SessionPool();  // destroys the parked sessions; the taken ones must be back
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // A session on env, parked or new; restart() it from its stream's memo.
  Session* take() noexcept;
  // s is idle() and no connection holds it.
  void park(Session* s) noexcept;
  // s is in no state to be reused (its connection closed mid-request): destroyed.
  void drop(Session* s) noexcept;
  // Destroys the sessions parked all period long, then trims the blocks; returns how
  // many blocks went back to the allocator.
  std::size_t trim() noexcept;
  const BlockPool& blocks() const noexcept { return blocks_; }

 private:
  const SessionEnv& env_;
  BlockPool blocks_;
  Session* parked_ = nullptr;
  std::size_t parked_count_ = 0, parked_low_ = 0;  // and the fewest since the last trim
};

}  // namespace hiserve
