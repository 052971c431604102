// The server's counters, listed once: the X-macro feeds the per-loop counters, the
// totals, the --stats-interval line and the metrics from one table.
#pragma once
#include <cstdint>

// X(name, what it counts)
#define HISERVE_COUNTERS(X)                                                                   \
  X(accepted, "connections accepted")                                                         \
  X(rejected, "connections closed at once: over --max-connections or stopping")              \
  X(accept_errors, "accept() errors libuv reported (EMFILE only if its reserve fd failed)")   \
  X(requests, "requests answered by the router (200, 400, 404)")                              \
  X(bad_requests, "protocol errors answered 400: malformed, Host missing or doubled, smuggling") \
  X(too_large, "protocol errors answered 413 (body) or 431 (head)")                           \
  X(unsupported, "protocol errors answered 417 (Expect), 501 (Transfer-Encoding), 505 (version)") \
  X(header_timeouts, "connections closed because a request head did not arrive in time")     \
  X(idle_timeouts, "idle keep-alive connections closed")

namespace hiserve {

// Totals across loops, readable from any thread while the server runs.
struct Stats {
  std::int64_t open_connections = 0;
#define HISERVE_STATS_FIELD(name, what) std::uint64_t name = 0;
  HISERVE_COUNTERS(HISERVE_STATS_FIELD)
#undef HISERVE_STATS_FIELD
  std::uint64_t protocol_errors = 0;  // bad_requests + too_large + unsupported
};

}  // namespace hiserve
