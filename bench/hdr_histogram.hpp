// Gil Tene's HdrHistogram, the part bench/latency needs: record values of 1 to
// `highest` with 3 significant digits in constant memory, merge, and read percentiles.
// Debian packages no C or C++ HdrHistogram; the bucket layout and the arithmetic below
// are the reference implementation's (HdrHistogram_c: counts_index, value_at_percentile).
#pragma once
#include <cstdint>
#include <vector>

namespace bench {

class HdrHistogram {
 public:
  explicit HdrHistogram(std::int64_t highest);
  // v is clamped to [1, highest].
  void record(std::int64_t v) noexcept;
  void add(const HdrHistogram& other) noexcept;  // same highest
  std::int64_t total() const noexcept { return total_; }
  std::int64_t max() const noexcept { return max_; }
  // The highest value equivalent to the one below which `percentile` % of the values fall.
  std::int64_t at_percentile(double percentile) const noexcept;
  double mean() const noexcept;

 private:
  static constexpr int kSubBucketHalfCountMagnitude = 10;  // 3 significant digits
  static constexpr std::int64_t kSubBucketCount = 2048, kSubBucketHalfCount = 1024, kSubBucketMask = 2047;
  static int bucket_of(std::int64_t v) noexcept;
  static std::size_t index_of(std::int64_t v) noexcept;
  static std::int64_t value_of(std::size_t index) noexcept;
  static std::int64_t highest_equivalent(std::int64_t v) noexcept;

  std::int64_t highest_;
  std::vector<std::int64_t> counts_;
  std::int64_t total_ = 0, max_ = 0;
};

}  // namespace bench
