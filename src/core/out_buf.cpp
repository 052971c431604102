#include "hiserve/out_buf.hpp"

#include <cstring>

#include "hiserve/alloc.hpp"

namespace hiserve {

char* OutBuf::reserve(std::size_t n) {
  if (tail_ && tail_->cap - tail_->end >= n) return tail_->data() + tail_->end;
  const std::size_t chunk_cap = pool_->block_size() - sizeof(Seg);
  const bool large = n > chunk_cap;
  Seg* s = static_cast<Seg*>(large ? mem::alloc(sizeof(Seg) + n) : pool_->get());
  s->next = nullptr;
  s->begin = s->end = 0;
  s->cap = static_cast<std::uint32_t>(large ? n : chunk_cap);
  s->large = large;
  (tail_ ? tail_->next : head_) = s;
  tail_ = s;
  return s->data();
}

void OutBuf::commit(std::size_t n) noexcept {
  tail_->end += static_cast<std::uint32_t>(n);
  size_ += n;
}

void OutBuf::append(std::string_view s) {
  std::memcpy(reserve(s.size()), s.data(), s.size());
  commit(s.size());
}

int OutBuf::spans(Span* out, int max) const noexcept {
  int i = 0;
  for (Seg* s = head_; s && i < max; s = s->next) {
    if (s->end == s->begin) continue;
    out[i++] = {s->data() + s->begin, static_cast<std::size_t>(s->end - s->begin)};
  }
  return i;
}

void OutBuf::consume(std::size_t n) noexcept {
  size_ -= n;
  if (size_ == 0) return reset();
  while (n > 0) {
    std::size_t avail = head_->end - head_->begin;
    if (n < avail) {
      head_->begin += static_cast<std::uint32_t>(n);
      return;
    }
    n -= avail;
    Seg* next = head_->next;
    release(head_);
    head_ = next;
  }
}

void OutBuf::release(Seg* s) noexcept {
  if (s->large)
    mem::release(s);
  else
    pool_->put(s);
}

void OutBuf::reset() noexcept {
  while (head_) {
    Seg* next = head_->next;
    release(head_);
    head_ = next;
  }
  tail_ = nullptr;
  size_ = 0;
}

}  // namespace hiserve
