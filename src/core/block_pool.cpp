#include "hiserve/block_pool.hpp"

#include <sanitizer/asan_interface.h>  // the poisoning macros are no-ops without ASan

#include "hiserve/alloc.hpp"

namespace hiserve {

BlockPool::~BlockPool() { clear(); }

BlockPool::Node* BlockPool::pop() noexcept {
  Node* n = free_;
  free_ = n->next;
  --free_count_;
  ASAN_UNPOISON_MEMORY_REGION(n, block_size_);
  return n;
}

void* BlockPool::get() {
  ++in_use_;
  if (!free_) return mem::alloc(block_size_);
  Node* n = pop();
  if (free_count_ < low_water_) low_water_ = free_count_;
  return n;
}

void BlockPool::put(void* block) noexcept {
  --in_use_;
  Node* n = static_cast<Node*>(block);
  n->next = free_;
  free_ = n;
  ++free_count_;
  ASAN_POISON_MEMORY_REGION(n + 1, block_size_ - sizeof(Node));
}

std::size_t BlockPool::trim() noexcept {
  const std::size_t n = low_water_;
  for (std::size_t i = 0; i < n; ++i) mem::release(pop());
  low_water_ = free_count_;
  return n;
}

void BlockPool::clear() noexcept {
  while (free_) mem::release(pop());
  low_water_ = 0;
}

}  // namespace hiserve
