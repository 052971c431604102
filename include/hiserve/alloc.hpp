// The one allocator interface: every heap block hiserve asks for (arena chunks,
// connections, libuv's own allocations) goes through here, so tests and benches can
// count them. Backed by mimalloc or libc malloc, chosen at build time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hiserve::mem {

// Allocates n bytes (n > 0); aborts on exhaustion rather than returning null.
void* alloc(std::size_t n);
// Releases a block from alloc/realloc; null is a no-op.
void release(void* p) noexcept;
// Resizes a block from alloc (libuv needs realloc).
void* resize(void* p, std::size_t n);
// calloc for libuv.
void* alloc_zeroed(std::size_t count, std::size_t size);

// Process-wide totals since start: allocations made and bytes asked for.
struct Totals {
  std::uint64_t allocs;
  std::uint64_t bytes;
};
Totals totals() noexcept;
// Records an allocation made elsewhere (the tests' operator new) in the totals.
void count(std::size_t n) noexcept;

// Asks the allocator to hand freed memory back to the OS now (mi_collect on this
// thread's heap, or malloc_trim). For after a trim, not the hot path.
void return_free_memory() noexcept;

// Name of the allocator compiled in: "mimalloc" or "system".
const char* name() noexcept;

// n rounded up to a multiple of align (a power of two).
constexpr std::size_t align_up(std::size_t n, std::size_t align) noexcept {
  return (n + align - 1) & ~(align - 1);
}

}  // namespace hiserve::mem
