#include "alloc_hooks.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

#include "hiserve/alloc.hpp"

namespace {
std::atomic<std::uint64_t> g_counted{0};
thread_local bool t_not_counted = false;

void note() noexcept {
  if (!t_not_counted) g_counted.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

namespace test {
std::uint64_t server_allocations() {
  return g_counted.load(std::memory_order_relaxed) + hiserve::mem::totals().allocs;
}
NotCounted::NotCounted() : was(t_not_counted) { t_not_counted = true; }
NotCounted::~NotCounted() { t_not_counted = was; }
}  // namespace test

// hiserve::mem is counted by hiserve itself; test threads never call it.

void* operator new(std::size_t n) {
  note();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  note();
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#ifdef HISERVE_COUNT_MALLOC
// glibc lets a program replace malloc; its own implementation stays reachable as
// __libc_*. Catches any libc-level allocation the loops might make behind our back.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  note();
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}
#endif
