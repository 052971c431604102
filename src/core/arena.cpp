#include "hiserve/arena.hpp"

#include <cstring>

#include "hiserve/alloc.hpp"

namespace hiserve {
namespace {
constexpr std::size_t kAlign = 8;
}  // namespace

void* Arena::alloc(std::size_t n) {
  n = mem::align_up(n ? n : 1, kAlign);
  if (static_cast<std::size_t>(end_ - cur_) >= n) {
    void* p = cur_;
    cur_ += n;
    return p;
  }
  constexpr std::size_t header = mem::align_up(sizeof(Link), kAlign);
  const std::size_t chunk = pool_->block_size();
  if (n > chunk - header) {
    auto* l = static_cast<Link*>(mem::alloc(header + n));
    l->next = large_;
    large_ = l;
    held_ += header + n;
    return reinterpret_cast<char*>(l) + header;
  }
  auto* c = static_cast<Link*>(pool_->get());
  c->next = chunks_;
  chunks_ = c;
  held_ += chunk;
  cur_ = reinterpret_cast<char*>(c) + header;
  end_ = reinterpret_cast<char*>(c) + chunk;
  void* p = cur_;
  cur_ += n;
  return p;
}

void Arena::reset() noexcept {
  while (chunks_) {
    Link* next = chunks_->next;
    pool_->put(chunks_);
    chunks_ = next;
  }
  while (large_) {
    Link* next = large_->next;
    mem::release(large_);
    large_ = next;
  }
  cur_ = end_ = nullptr;
  held_ = 0;
}

void ArenaText::own(Arena& arena, std::size_t need) {
  std::size_t cap = cap_ ? cap_ : 32;
  while (cap < need) cap *= 2;
  char* q = arena.alloc_chars(cap);
  if (n_) std::memcpy(q, p_, n_);
  p_ = q;
  cap_ = static_cast<std::uint32_t>(cap);
}

void ArenaText::append(Arena& arena, const char* at, std::size_t n) {
  if (n == 0) return;
  if (n_ == 0 && cap_ == 0) {
    p_ = at;
    n_ = static_cast<std::uint32_t>(n);
    return;
  }
  if (cap_ == 0 && p_ + n_ == at) {  // still contiguous in the read buffer
    n_ += static_cast<std::uint32_t>(n);
    return;
  }
  if (n_ + n > cap_) own(arena, n_ + n);
  std::memcpy(const_cast<char*>(p_) + n_, at, n);
  n_ += static_cast<std::uint32_t>(n);
}

void ArenaText::append_copy(Arena& arena, const char* at, std::size_t n) {
  if (n == 0) return;
  if (cap_ == 0 || n_ + n > cap_) own(arena, n_ + n);
  std::memcpy(const_cast<char*>(p_) + n_, at, n);
  n_ += static_cast<std::uint32_t>(n);
}

void ArenaText::pin(Arena& arena) {
  if (cap_ == 0 && n_ > 0) own(arena, n_);
}

}  // namespace hiserve
