#include "hdr_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

HdrHistogram::HdrHistogram(std::int64_t highest) : highest_(highest) {
  // Buckets double in range: enough of them that the last one reaches `highest`.
  int buckets = 1;
  for (std::int64_t reach = kSubBucketCount; reach <= highest; reach <<= 1) ++buckets;
  counts_.assign(static_cast<std::size_t>(buckets + 1) * kSubBucketHalfCount, 0);
}

int HdrHistogram::bucket_of(std::int64_t v) noexcept {
  const int pow2_ceiling = 64 - __builtin_clzll(static_cast<unsigned long long>(v | kSubBucketMask));
  return pow2_ceiling - (kSubBucketHalfCountMagnitude + 1);
}

std::size_t HdrHistogram::index_of(std::int64_t v) noexcept {
  const int bucket = bucket_of(v);
  const std::int64_t sub = v >> bucket;
  return static_cast<std::size_t>(((static_cast<std::int64_t>(bucket) + 1) << kSubBucketHalfCountMagnitude) +
                                  (sub - kSubBucketHalfCount));
}

std::int64_t HdrHistogram::value_of(std::size_t index) noexcept {
  std::int64_t bucket = (static_cast<std::int64_t>(index) >> kSubBucketHalfCountMagnitude) - 1;
  std::int64_t sub = (static_cast<std::int64_t>(index) & (kSubBucketHalfCount - 1)) + kSubBucketHalfCount;
  if (bucket < 0) {
    sub -= kSubBucketHalfCount;
    bucket = 0;
  }
  return sub << bucket;
}

std::int64_t HdrHistogram::highest_equivalent(std::int64_t v) noexcept {
  return v + (std::int64_t{1} << bucket_of(v)) - 1;
}

void HdrHistogram::record(std::int64_t v) noexcept {
  v = std::clamp<std::int64_t>(v, 1, highest_);
  ++counts_[index_of(v)];
  ++total_;
  max_ = std::max(max_, v);
}

void HdrHistogram::add(const HdrHistogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

std::int64_t HdrHistogram::at_percentile(double percentile) const noexcept {
  if (total_ == 0) return 0;
  const double p = std::min(percentile, 100.0);
  const auto wanted = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(p / 100.0 * total_)));
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(highest_equivalent(value_of(i)), max_);
  }
  return max_;
}

double HdrHistogram::mean() const noexcept {
  if (total_ == 0) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) sum += static_cast<double>(counts_[i]) * static_cast<double>(value_of(i));
  return sum / static_cast<double>(total_);
}

}  // namespace bench
