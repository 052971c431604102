// Every plain figure the server reports, listed once: the --stats-interval line
// (process.cpp) and /metrics (metrics_text.cpp) both render from this table. The
// labelled families /metrics adds (responses by code, protocol errors by kind, the
// duration histogram, process_*) are arrays of Stats, rendered there.
#pragma once
#include <cstddef>
#include <cstdint>

#include "hiserve/stats.hpp"
#include "hiserve/store/store_thread.hpp"

namespace hiserve {

struct Figure {
  const char* key;     // in the stats line
  const char* metric;  // Prometheus family, or nullptr: the stats line only
  const char* label;   // the sample's label set without braces, or ""
  const char* type;    // "counter" or "gauge"
  const char* help;
  double divisor;      // /metrics shows value / divisor (a unit change); 0: the integer as is
  std::uint64_t (*value)(const Stats& s, const StoreStatus& c) noexcept;
};

extern const Figure kFigures[];
extern const std::size_t kFigureCount;

}  // namespace hiserve
