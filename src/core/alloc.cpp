#include "hiserve/alloc.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <malloc.h>

#ifdef HISERVE_MIMALLOC
#include <mimalloc.h>
#define HS_MALLOC mi_malloc
#define HS_FREE mi_free
#define HS_REALLOC mi_realloc
#define HS_CALLOC mi_calloc
#else
#define HS_MALLOC std::malloc
#define HS_FREE std::free
#define HS_REALLOC std::realloc
#define HS_CALLOC std::calloc
#endif

namespace hiserve::mem {
namespace {
// Relaxed counters: only ever read as totals; a warm server never touches them.
std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::uint64_t> g_bytes{0};

#ifdef HISERVE_MIMALLOC
// mimalloc keeps freed pages committed for a while by default; with a delay of 0 the
// blocks a trim hands back leave RSS at once (measured: bench/memory.sh). Pools keep
// the hot path from ever freeing, so this costs nothing per request.
const bool g_mimalloc_options = [] {
  mi_option_set(mi_option_decommit_delay, 0);
  return true;
}();
#endif

[[noreturn]] void out_of_memory(std::size_t n) {
  std::fprintf(stderr, "hiserve: out of memory allocating %zu bytes\n", n);
  std::abort();
}
}  // namespace

void count(std::size_t n) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(n, std::memory_order_relaxed);
}

void* alloc(std::size_t n) {
  count(n);
  void* p = HS_MALLOC(n ? n : 1);
  if (!p) out_of_memory(n);
  return p;
}

void release(void* p) noexcept { HS_FREE(p); }

void* resize(void* p, std::size_t n) {
  count(n);
  void* q = HS_REALLOC(p, n ? n : 1);
  if (!q) out_of_memory(n);
  return q;
}

void* alloc_zeroed(std::size_t count_, std::size_t size) {
  count(count_ * size);
  void* p = HS_CALLOC(count_ ? count_ : 1, size ? size : 1);
  if (!p) out_of_memory(count_ * size);
  return p;
}

Totals totals() noexcept {
  return {g_allocs.load(std::memory_order_relaxed), g_bytes.load(std::memory_order_relaxed)};
}

void return_free_memory() noexcept {
#ifdef HISERVE_MIMALLOC
  mi_collect(true);
#else
  malloc_trim(0);
#endif
}

const char* name() noexcept {
#ifdef HISERVE_MIMALLOC
  return "mimalloc";
#else
  return "system";
#endif
}

}  // namespace hiserve::mem
