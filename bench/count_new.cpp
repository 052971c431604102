// Global operator new/delete on hiserve::mem, so B/op and allocs/op count every heap
// allocation the benchmarked code makes (std::string, std::map and std::regex included)
// on the allocator the build chose.
#include <new>

#include "hiserve/alloc.hpp"

void* operator new(std::size_t n) { return hiserve::mem::alloc(n); }
void* operator new[](std::size_t n) { return hiserve::mem::alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return hiserve::mem::alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return hiserve::mem::alloc(n); }
void operator delete(void* p) noexcept { hiserve::mem::release(p); }
void operator delete[](void* p) noexcept { hiserve::mem::release(p); }
void operator delete(void* p, std::size_t) noexcept { hiserve::mem::release(p); }
void operator delete[](void* p, std::size_t) noexcept { hiserve::mem::release(p); }
