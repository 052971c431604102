// Per-connection bump allocator over chunks from a BlockPool (h2o's h2o_mem_pool_t is
// the model). Nothing is freed one by one: reset() hands every chunk back to the pool,
// so a warm connection allocates nothing from the heap. Blocks larger than a chunk
// come straight from mem::alloc and are freed by reset().
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hiserve/block_pool.hpp"

namespace hiserve {

class Arena {
 public:
  explicit Arena(BlockPool& pool) noexcept : pool_(&pool) {}
  ~Arena() { reset(); }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // n bytes, 8-byte aligned, valid until reset().
  void* alloc(std::size_t n);
  char* alloc_chars(std::size_t n) { return static_cast<char*>(alloc(n)); }
  // Returns every chunk to the pool and frees large blocks.
  void reset() noexcept;
  // True when the arena holds no memory at all (an idle connection's state).
  bool empty() const noexcept { return !chunks_ && !large_; }
  // Bytes held right now (chunks plus large blocks), for per-connection caps.
  std::size_t held() const noexcept { return held_; }

 private:
  struct Link {
    Link* next;
  };
  BlockPool* pool_;
  Link* chunks_ = nullptr;  // newest first; cur_ points into the newest
  Link* large_ = nullptr;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  std::size_t held_ = 0;
};

// A string assembled from pieces that llhttp hands over one callback at a time. It
// stays a view into the read buffer while the pieces are contiguous there, and is
// copied into the arena only when they are not, or when the read buffer is about to
// be reused (pin).
class ArenaText {
 public:
  void append(Arena& arena, const char* at, std::size_t n);
  // Appends a copy of n bytes, never a view: for bytes that do not come next in the
  // stream the other pieces came from.
  void append_copy(Arena& arena, const char* at, std::size_t n);
  // Copies a view into the arena so it outlives the read buffer.
  void pin(Arena& arena);
  void clear() noexcept { p_ = nullptr, n_ = cap_ = 0; }
  // Keeps the first n bytes (n <= size()).
  void truncate(std::size_t n) noexcept { n_ = static_cast<std::uint32_t>(n); }
  std::string_view view() const noexcept { return {p_, n_}; }
  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }

 private:
  void own(Arena& arena, std::size_t need);
  const char* p_ = nullptr;
  std::uint32_t n_ = 0;
  std::uint32_t cap_ = 0;  // > 0 once the bytes live in the arena
};

}  // namespace hiserve
