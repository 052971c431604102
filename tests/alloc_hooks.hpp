// Counts heap allocations made by threads other than the test's own (that is, by the
// server's loops): global operator new always, libc malloc too where no sanitizer
// already owns it.
#pragma once
#include <cstdint>

namespace test {

// Allocations counted so far (operator new, malloc, and hiserve::mem).
std::uint64_t server_allocations();

// While alive, allocations on this thread are not counted (the test's client side).
struct NotCounted {
  NotCounted();
  ~NotCounted();
  bool was;
};

}  // namespace test
