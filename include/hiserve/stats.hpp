// The server's counters, listed once: the X-macro feeds the per-loop counters, the
// totals, the --stats-interval line and the metrics from one table. Each loop writes
// its own LoopStats (single writer: a relaxed load and store, no locked instruction,
// no cache line shared with another loop); readers sum them.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "hiserve/response.hpp"

// X(name, what it counts)
#define HISERVE_COUNTERS(X)                                                                   \
  X(accepted, "connections accepted")                                                         \
  X(rejected, "connections closed at once: over --max-connections or stopping")              \
  X(accept_errors, "accept() errors libuv reported (EMFILE only if its reserve fd failed)")   \
  X(requests, "requests answered by the router (200, 301, 400, 404, 503)")                    \
  X(header_timeouts, "connections closed because a request head did not arrive in time")     \
  X(idle_timeouts, "idle keep-alive connections closed")                                     \
  X(log_lines, "access-log lines written")                                                   \
  X(log_dropped, "access-log lines dropped: the write failed (a full disk)")

namespace hiserve {

// Upper bounds of the request-duration histogram's buckets, in nanoseconds (then +Inf):
// from 10 µs, where a keep-alive answer on loopback lands, to 10 s.
inline constexpr std::uint64_t kLatencyBoundsNs[] = {
    10'000,      25'000,      50'000,        100'000,       250'000,       500'000,        1'000'000,
    2'500'000,   5'000'000,   10'000'000,    25'000'000,    50'000'000,    100'000'000,    250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr std::size_t kLatencyBuckets = sizeof kLatencyBoundsNs / sizeof kLatencyBoundsNs[0] + 1;

// Totals across loops, readable from any thread while the server runs.
struct Stats {
  std::int64_t open_connections = 0;
#define HISERVE_STATS_FIELD(name, what) std::uint64_t name = 0;
  HISERVE_COUNTERS(HISERVE_STATS_FIELD)
#undef HISERVE_STATS_FIELD
  // Protocol errors by kind, and summed by the status they were answered with.
  std::uint64_t protocol_error_kinds[kProtocolErrorKinds] = {};
  std::uint64_t bad_requests = 0;  // 400
  std::uint64_t too_large = 0;     // 413, 431
  std::uint64_t unsupported = 0;   // 417, 501, 505
  std::uint64_t protocol_errors = 0;
  // Final responses by status (kStatusCodes order): the router's and protocol errors.
  std::uint64_t responses[kStatusCount] = {};
  // Request durations: first byte in to the response handed to the kernel. Counts per
  // bucket (not cumulative), their sum, and how many.
  std::uint64_t latency_buckets[kLatencyBuckets] = {};
  std::uint64_t latency_sum_ns = 0;
  std::uint64_t latency_count = 0;
  // The loops' block pools: bytes allocated, and of those handed out.
  std::uint64_t pool_held_bytes = 0;
  std::uint64_t pool_used_bytes = 0;
};

struct alignas(64) LoopStats {
#define HISERVE_LOOP_COUNTER(name, what) std::atomic<std::uint64_t> name{0};
  HISERVE_COUNTERS(HISERVE_LOOP_COUNTER)
#undef HISERVE_LOOP_COUNTER
  std::atomic<std::uint64_t> protocol_error_kinds[kProtocolErrorKinds] = {};
  std::atomic<std::uint64_t> responses[kStatusCount] = {};
  std::atomic<std::uint64_t> latency_buckets[kLatencyBuckets] = {};
  std::atomic<std::uint64_t> latency_sum_ns{0};
  // Published by the loop now and then (its pools are its own, not atomics).
  std::atomic<std::uint64_t> pool_held_bytes{0}, pool_used_bytes{0};

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void set(std::atomic<std::uint64_t>& c, std::uint64_t v) noexcept { c.store(v, std::memory_order_relaxed); }
  void count_response(int status) noexcept { bump(responses[status_slot(status)]); }
  void count_protocol_error(ProtocolError e) noexcept {
    bump(protocol_error_kinds[static_cast<std::size_t>(e)]);
    count_response(status_of(e));
  }
  // n requests that took ns each.
  void observe(std::uint64_t ns, std::uint64_t n) noexcept {
    std::size_t b = 0;
    while (b < kLatencyBuckets - 1 && ns > kLatencyBoundsNs[b]) ++b;
    bump(latency_buckets[b], n);
    bump(latency_sum_ns, ns * n);
  }
  // Adds these counters to s (the derived sums are left to the caller's finish()).
  void add_to(Stats& s) const noexcept;
};

// Fills the derived fields of a sum of add_to()s: protocol errors by status, latency count.
void finish(Stats& s) noexcept;

}  // namespace hiserve
