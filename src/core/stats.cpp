#include "hiserve/stats.hpp"

namespace hiserve {
namespace {
std::uint64_t get(const std::atomic<std::uint64_t>& c) noexcept { return c.load(std::memory_order_relaxed); }
}  // namespace

void LoopStats::add_to(Stats& s) const noexcept {
#define HISERVE_ADD_COUNTER(name, what) s.name += get(name);
  HISERVE_COUNTERS(HISERVE_ADD_COUNTER)
#undef HISERVE_ADD_COUNTER
  for (std::size_t i = 0; i < kProtocolErrorKinds; ++i) s.protocol_error_kinds[i] += get(protocol_error_kinds[i]);
  for (std::size_t i = 0; i < kStatusCount; ++i) s.responses[i] += get(responses[i]);
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) s.latency_buckets[i] += get(latency_buckets[i]);
  s.latency_sum_ns += get(latency_sum_ns);
  s.pool_held_bytes += get(pool_held_bytes);
  s.pool_used_bytes += get(pool_used_bytes);
}

void finish(Stats& s) noexcept {
  s.bad_requests = s.too_large = s.unsupported = 0;
  for (std::size_t i = 0; i < kProtocolErrorKinds; ++i) {
    const int status = status_of(static_cast<ProtocolError>(i));
    (status == 400 ? s.bad_requests : status == 413 || status == 431 ? s.too_large : s.unsupported) +=
        s.protocol_error_kinds[i];
  }
  s.protocol_errors = s.bad_requests + s.too_large + s.unsupported;
  s.latency_count = 0;
  for (std::uint64_t n : s.latency_buckets) s.latency_count += n;
}

}  // namespace hiserve
