#include "metrics_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include "figures.hpp"

namespace hiserve {
namespace {

// Appends to a fixed buffer; remembers running out of room.
class Text {
 public:
  Text(char* buf, std::size_t cap) noexcept : p_(buf), end_(buf + cap) {}
  Text& operator<<(std::string_view s) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < s.size()) return full();
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    return *this;
  }
  Text& operator<<(std::uint64_t v) noexcept { return number(v); }
  Text& operator<<(std::int64_t v) noexcept { return number(v); }
  // As Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus's own clients use:
  // shortest digits, with an exponent only below 1e-4 or from 1e6 on (le="0.0001").
  Text& operator<<(double v) noexcept {
    char sci[32];
    const auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
    const char* e = std::find(sci, r.ptr, 'e');
    int exp = 0;
    if (e != r.ptr) std::from_chars(e + 1 + (e[1] == '+'), r.ptr, exp);
    if (v != 0 && (exp < -4 || exp >= 6)) return *this << std::string_view(sci, static_cast<std::size_t>(r.ptr - sci));
    const auto f = std::to_chars(p_, end_, v, std::chars_format::fixed);
    if (f.ec != std::errc{}) return full();
    p_ = f.ptr;
    return *this;
  }
  // "# HELP" and "# TYPE" lines.
  void family(std::string_view name, std::string_view type, std::string_view help) noexcept {
    *this << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  template <class V>
  void sample(std::string_view name, V v) noexcept {
    *this << name << " " << v << "\n";
  }
  template <class V>
  void family_of_one(std::string_view name, std::string_view type, std::string_view help, V v) noexcept {
    family(name, type, help);
    sample(name, v);
  }
  char* end() const noexcept { return overflow_ ? nullptr : p_; }

 private:
  template <class V>
  Text& number(V v) noexcept {
    const auto r = std::to_chars(p_, end_, v);
    if (r.ec != std::errc{}) return full();
    p_ = r.ptr;
    return *this;
  }
  Text& full() noexcept {
    overflow_ = true;
    p_ = end_;
    return *this;
  }
  char* p_;
  char* end_;
  bool overflow_ = false;
};

double seconds(std::uint64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

std::size_t write_metrics(char* buf, std::size_t cap, const Stats& s, const StoreStatus& c, const ProcessStats& p,
                          std::string_view master) noexcept {
  Text t(buf, cap);
  t.family("hiserve_requests_total", "counter",
           "Responses the public listener sent, by status code: the router's and protocol errors'.");
  for (std::size_t i = 0; i < kStatusCount; ++i)
    t << "hiserve_requests_total{code=\"" << static_cast<std::uint64_t>(kStatusCodes[i]) << "\"} " << s.responses[i]
      << "\n";
  t.family("hiserve_protocol_errors_total", "counter",
           "Requests refused before the router (each answered, then the connection closed), by kind.");
  for (std::size_t i = 0; i < kProtocolErrorKinds; ++i)
    t << "hiserve_protocol_errors_total{kind=\"" << protocol_error_label(static_cast<ProtocolError>(i)) << "\"} "
      << s.protocol_error_kinds[i] << "\n";
  const char* family = nullptr;
  for (std::size_t i = 0; i < kFigureCount; ++i) {
    const Figure& f = kFigures[i];
    if (!f.metric) continue;
    if (!family || std::strcmp(family, f.metric) != 0) t.family(f.metric, f.type, f.help);
    family = f.metric;
    t << f.metric;
    if (*f.label) t << "{" << f.label << "}";
    t << " ";
    const std::uint64_t v = f.value(s, c);
    if (f.divisor != 0) t << static_cast<double>(v) / f.divisor;
    else t << v;
    t << "\n";
  }

  if (!master.empty()) {
    // An info-style series: the value is 1, the label says which (a label value escapes \ " and newline).
    t.family("hiserve_store_master_info", "gauge", "The Redis master the visitor count is leased from (behind Sentinel).");
    t << "hiserve_store_master_info{address=\"";
    for (char ch : master) {
      if (ch == '\\' || ch == '"') t << "\\" << std::string_view(&ch, 1);
      else if (ch == '\n') t << "\\n";
      else t << std::string_view(&ch, 1);
    }
    t << "\"} 1\n";
  }

  t.family("hiserve_request_duration_seconds", "histogram",
           "From a request's first byte read to its response handed to the kernel.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    cumulative += s.latency_buckets[i];
    t << "hiserve_request_duration_seconds_bucket{le=\"";
    if (i + 1 < kLatencyBuckets) t << seconds(kLatencyBoundsNs[i]);
    else t << "+Inf";
    t << "\"} " << cumulative << "\n";
  }
  t.sample("hiserve_request_duration_seconds_sum", seconds(s.latency_sum_ns));
  t.sample("hiserve_request_duration_seconds_count", cumulative);

  t.family_of_one("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                  p.cpu_seconds);
  t.family_of_one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", p.resident_bytes);
  t.family_of_one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", p.virtual_bytes);
  t.family_of_one("process_open_fds", "gauge", "Number of open file descriptors.", p.open_fds);
  t.family_of_one("process_max_fds", "gauge", "Maximum number of open file descriptors.", p.max_fds);
  t.family_of_one("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
                  p.start_time_seconds);
  char* end = t.end();
  return end ? static_cast<std::size_t>(end - buf) : 0;
}

}  // namespace hiserve
