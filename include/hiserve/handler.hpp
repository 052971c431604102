// The router and the /hi handler: a Request in, one complete response out. Plain
// C++; the talk's handler with its data race fixed by one relaxed atomic.
#pragma once
#include <atomic>
#include <cstdint>

#include "hiserve/arena.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/out_buf.hpp"
#include "hiserve/request.hpp"
#include "hiserve/response.hpp"

namespace hiserve {

// The visitor number, shared by every loop of a server. Relaxed is enough: the count
// is the only thing published, and fetch_add hands out each value exactly once. Its
// own cache line, so the loops' other data never false-shares with it.
struct alignas(64) VisitorCounter {
  std::atomic<std::uint64_t> served{0};
  // The next visitor number: 1, 2, 3, ...
  std::uint64_t next() noexcept { return served.fetch_add(1, std::memory_order_relaxed) + 1; }
};

// What a handler may use besides the request: all owned by the loop or connection.
struct ServeContext {
  VisitorCounter* visitors;
  const DateCache* date;
  Arena* arena;  // request-scoped scratch (decoded form values)
};

// Routes req and writes exactly one complete response to out: /hi, or 404.
void serve(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);

// The /hi handler alone (the talk's handleHi).
void serve_hi(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);

}  // namespace hiserve
