// Responses waiting to be written, as a list of segments: chunks from the loop's
// BlockPool, or one heap block for a response bigger than a chunk. Appending never
// copies what is already there, so all the responses to one read leave in one
// vectored write (uWebSockets' cork). Empty, it holds no memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hiserve/block_pool.hpp"

namespace hiserve {

class OutBuf {
 public:
  // Past this many bytes the parser stops to let the caller write (bounds memory when
  // a client pipelines faster than it reads).
  static constexpr std::size_t kFlushBytes = 64 * 1024;

  explicit OutBuf(BlockPool& pool) noexcept : pool_(&pool) {}
  ~OutBuf() { reset(); }
  OutBuf(const OutBuf&) = delete;
  OutBuf& operator=(const OutBuf&) = delete;

  // n contiguous writable bytes at the end; commit() the ones actually written.
  char* reserve(std::size_t n);
  void commit(std::size_t n) noexcept;
  void append(std::string_view s);

  // Bytes not yet written.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  bool should_flush() const noexcept { return size_ >= kFlushBytes; }

  // Fills up to max (data, len) pairs with the unwritten bytes, in order; returns the
  // count. Span has the layout of struct iovec and uv_buf_t on Unix.
  struct Span {
    char* base;
    std::size_t len;
  };
  int spans(Span* out, int max) const noexcept;
  // Drops n written bytes from the front, recycling finished segments.
  void consume(std::size_t n) noexcept;
  // Drops everything and hands all memory back.
  void reset() noexcept;

 private:
  struct Seg {
    Seg* next;
    std::uint32_t begin;  // first unwritten byte
    std::uint32_t end;    // one past the last committed byte
    std::uint32_t cap;
    bool large;  // heap block, not a pool chunk
    char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  };
  void release(Seg* s) noexcept;
  BlockPool* pool_;
  Seg* head_ = nullptr;
  Seg* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace hiserve
