// A per-thread free list of equal-size blocks (arena chunks, output chunks,
// connections). Blocks come from mem::alloc and are kept for reuse; trim() hands back
// the ones a whole trim period did not need, so memory comes down after a burst. Not
// thread-safe: one pool per loop.
//
// In AddressSanitizer builds a recycled block is poisoned (all but its free-list
// link) until it is taken again, as h2o's h2o_mem_free_recycle does: a view kept into
// a reset arena or a written-out chunk is caught at the first read, and the blocks are
// still recycled, so the zero-allocation test holds in those builds too.
#pragma once
#include <cstddef>

namespace hiserve {

// The size of arena and output chunks: big enough for a whole request head at the
// default --max-head-bytes plus what pins it, small enough that an idle loop's pool
// stays a few blocks.
inline constexpr std::size_t kChunkSize = 16 * 1024;

class BlockPool {
 public:
  explicit BlockPool(std::size_t block_size) noexcept : block_size_(block_size) {}
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // Size of every block this pool hands out.
  std::size_t block_size() const noexcept { return block_size_; }
  // A block of block_size() bytes: a recycled one if any, else a fresh allocation.
  void* get();
  // Returns a block obtained from get() to the free list (poisoned under ASan).
  void put(void* block) noexcept;
  // Frees the blocks that stayed unused since the previous trim; returns how many.
  std::size_t trim() noexcept;
  // Frees every block on the free list.
  void clear() noexcept;

  std::size_t free_count() const noexcept { return free_count_; }
  // Blocks handed out and not yet returned.
  std::size_t in_use() const noexcept { return in_use_; }

 private:
  struct Node {
    Node* next;
  };
  Node* pop() noexcept;
  std::size_t block_size_;
  Node* free_ = nullptr;
  std::size_t free_count_ = 0;
  std::size_t in_use_ = 0;
  std::size_t low_water_ = 0;  // fewest free blocks seen since the last trim
};

}  // namespace hiserve
