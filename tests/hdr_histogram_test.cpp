// bench/latency's histogram: percentiles within its 3 significant digits of the exact
// ones, at every scale from microseconds to minutes.
#include "hdr_histogram.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

TEST_CASE("percentiles agree with the sorted values to 3 significant digits") {
  bench::HdrHistogram h(120'000'000);
  std::vector<std::int64_t> values;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(5.0, 2.5);  // microseconds: most small, a long tail
  for (int i = 0; i < 200'000; ++i) {
    const auto v = std::clamp<std::int64_t>(static_cast<std::int64_t>(dist(rng)) + 1, 1, 120'000'000);
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  CHECK(h.total() == 200'000);
  CHECK(h.max() == values.back());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const auto exact = values[static_cast<std::size_t>(std::ceil(p / 100 * values.size())) - 1];
    const auto got = h.at_percentile(p);
    CAPTURE(p);
    CHECK(got >= exact);
    CHECK(static_cast<double>(got - exact) <= 0.001 * static_cast<double>(exact) + 1);
  }
}

TEST_CASE("values below 1 and above the highest are clamped; merging adds counts") {
  bench::HdrHistogram a(1000), b(1000);
  a.record(0);
  a.record(5000);
  b.record(500);
  a.add(b);
  CHECK(a.total() == 3);
  CHECK(a.max() == 1000);
  CHECK(a.at_percentile(0) == 1);
  CHECK(a.at_percentile(50) == 500);
}
