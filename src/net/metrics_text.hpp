// GET /metrics: the server's figures in Prometheus text exposition format 0.0.4, names
// and units as Prometheus's naming conventions have them (counters end in _total; base
// units, seconds and bytes). Plain data in, text out: no allocation.
#pragma once
#include <cstddef>
#include <string_view>

#include "hiserve/stats.hpp"
#include "hiserve/store/store_thread.hpp"
#include "process_stats.hpp"

namespace hiserve {

inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Writes the exposition of these figures into buf (`master`: the Redis master behind
// Sentinel, or empty); its length, or 0 if cap is too small.
std::size_t write_metrics(char* buf, std::size_t cap, const Stats& s, const StoreStatus& c, const ProcessStats& p,
                          std::string_view master = {}) noexcept;

}  // namespace hiserve
