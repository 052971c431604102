#include "hiserve/block_pool.hpp"

#include "hiserve/alloc.hpp"

namespace hiserve {

BlockPool::~BlockPool() { clear(); }

void* BlockPool::get() {
  ++in_use_;
  if (!free_) return mem::alloc(block_size_);
  Node* n = free_;
  free_ = n->next;
  if (--free_count_ < low_water_) low_water_ = free_count_;
  return n;
}

void BlockPool::put(void* block) noexcept {
  --in_use_;
  Node* n = static_cast<Node*>(block);
  n->next = free_;
  free_ = n;
  ++free_count_;
}

std::size_t BlockPool::trim() noexcept {
  std::size_t n = low_water_;
  for (std::size_t i = 0; i < n; ++i) {
    Node* b = free_;
    free_ = b->next;
    mem::release(b);
  }
  free_count_ -= n;
  low_water_ = free_count_;
  return n;
}

void BlockPool::clear() noexcept {
  while (free_) {
    Node* b = free_;
    free_ = b->next;
    mem::release(b);
  }
  free_count_ = low_water_ = 0;
}

}  // namespace hiserve
