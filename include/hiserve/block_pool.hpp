// A per-thread free list of equal-size blocks (arena chunks, connections). Blocks
// come from mem::alloc and are kept for reuse; trim() hands back the ones a whole
// trim period did not need, so memory comes down after a burst. Not thread-safe:
// one pool per loop.
#pragma once
#include <cstddef>

namespace hiserve {

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
  // Returns a block obtained from get() to the free list.
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
  std::size_t block_size_;
  Node* free_ = nullptr;
  std::size_t free_count_ = 0;
  std::size_t in_use_ = 0;
  std::size_t low_water_ = 0;  // fewest free blocks seen since the last trim
};

}  // namespace hiserve
