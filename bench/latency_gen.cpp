// latency-gen: a constant-rate (open-loop) HTTP/1.1 load generator, bench/latency's
// engine.
//
// Request n of the run is scheduled at start + n/rate and goes to keep-alive connection
// n mod C, one request in flight per connection; requests scheduled while their
// connection waits queue behind it. Each latency runs from the request's scheduled
// time, not from when it went out (wrk2's correction for coordinated omission): a
// server that stalls for 500 ms leaves every request scheduled meanwhile waiting, and
// each counts its wait. One thread, epoll, and a timerfd armed at the next scheduled
// time to the nanosecond. (Go's timers, the other candidate, round a sleep up to a
// whole millisecond on Linux: a 200 µs sleep measured 1.09 ms here, a floor under
// every latency.)
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "hdr_histogram.hpp"

namespace {

constexpr std::int64_t kHighestUs = 120'000'000;  // 2 minutes
constexpr std::uint64_t kDrainNs = 10'000'000'000;  // for requests still queued at the end
constexpr std::uint64_t kLateNs = 10'000'000;       // a send this late is the generator's fault

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "latency-gen: %s\n", why.c_str());
  std::exit(1);
}

struct Options {
  std::string url, host, port, path;
  double rate = 1000, duration = 10;
  int connections = 50;
  bool json = false;
  std::string hist;
};

[[noreturn]] void usage() {
  std::fputs(
      "usage: latency-gen --url http://HOST:PORT/PATH [--rate R] [--duration SECONDS] [--connections C]\n"
      "                   [--json] [--hist FILE]\n",
      stderr);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--url") o.url = value();
    else if (a == "--rate") o.rate = std::atof(value().c_str());
    else if (a == "--duration") o.duration = std::atof(value().c_str());
    else if (a == "--connections") o.connections = std::atoi(value().c_str());
    else if (a == "--json") o.json = true;
    else if (a == "--hist") o.hist = value();
    else usage();
  }
  const std::string_view scheme = "http://";
  if (o.url.compare(0, scheme.size(), scheme) != 0 || o.rate <= 0 || o.duration <= 0 || o.connections < 1) usage();
  std::string rest = o.url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string authority = rest.substr(0, slash);
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    o.host = authority, o.port = "80";
  } else {
    o.host = authority.substr(0, colon), o.port = authority.substr(colon + 1);
  }
  if (o.host.size() > 2 && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
  return o;
}

struct Conn {
  int fd = -1;
  std::deque<std::uint64_t> queue;  // scheduled times; the front one is in flight when busy
  bool busy = false;
  std::uint64_t free_since = 0;  // when it last had nothing in flight
  std::string in;
  std::size_t written = 0;  // of the request in flight
  std::uint64_t answered = 0;  // on this socket
  bool resent = false;         // the request in flight went out once before
};

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), request_("GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\n\r\n") {
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (int e = getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &res)) die(gai_strerror(e));
    std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
    addr_len_ = res->ai_addrlen;
    freeaddrinfo(res);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event ev{EPOLLIN, {.u64 = kTimerTag}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);
    conns_.resize(static_cast<std::size_t>(o.connections));
    for (std::size_t i = 0; i < conns_.size(); ++i)
      if (!open(i)) die(std::string("cannot connect: ") + std::strerror(errno));
  }

  int run() {
    interval_ns_ = 1e9 / o_.rate;
    start_ = now_ns() + 50'000'000;
    end_ = start_ + static_cast<std::uint64_t>(o_.duration * 1e9);
    total_ = static_cast<std::uint64_t>(o_.duration * o_.rate);
    arm(start_);
    epoll_event events[64];
    while (next_ < total_ || in_flight() > 0) {
      const std::uint64_t now = now_ns();
      if (now > end_ + kDrainNs) break;
      const int n = epoll_wait(epoll_, events, 64, 100);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kTimerTag) {
          std::uint64_t expirations;
          (void)!read(timer_, &expirations, sizeof expirations);
          schedule_due();
        } else {
          on_ready(events[i].data.u64, events[i].events);
        }
      }
    }
    return report();
  }

 private:
  static constexpr std::uint64_t kTimerTag = ~std::uint64_t{0};

  std::uint64_t scheduled(std::uint64_t n) const { return start_ + static_cast<std::uint64_t>(n * interval_ns_); }

  void arm(std::uint64_t at) {
    itimerspec its{};
    its.it_value.tv_sec = static_cast<time_t>(at / 1'000'000'000);
    its.it_value.tv_nsec = static_cast<long>(at % 1'000'000'000);
    timerfd_settime(timer_, TFD_TIMER_ABSTIME, &its, nullptr);
  }

  // Hands every request now due to its connection, then arms the timer for the next.
  void schedule_due() {
    const std::uint64_t now = now_ns();
    for (; next_ < total_ && scheduled(next_) <= now; ++next_) {
      Conn& c = conns_[next_ % conns_.size()];
      c.queue.push_back(scheduled(next_));
      if (!c.busy) send_next(next_ % conns_.size());
    }
    if (next_ < total_) arm(scheduled(next_));
  }

  bool open(std::size_t i) {
    Conn& c = conns_[i];
    c.fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0) return false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{EPOLLIN, {.u64 = i}};
    return epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) == 0;
  }

  void reopen(std::size_t i) {
    Conn& c = conns_[i];
    close(c.fd);
    c.in.clear();
    c.busy = false;
    c.answered = 0;
    if (!open(i)) die(std::string("cannot reconnect: ") + std::strerror(errno));
  }

  void send_next(std::size_t i) {
    Conn& c = conns_[i];
    if (c.queue.empty()) return;
    const std::uint64_t now = now_ns();
    // Late past both its schedule and its connection's last answer: the generator's delay.
    if (now - std::max(c.queue.front(), c.free_since) > kLateNs && now > c.queue.front()) ++late_;
    c.busy = true;
    c.written = 0;
    if (!c.resent) ++sent_;  // a resend is the same request
    write_some(i);
  }

  void write_some(std::size_t i) {
    Conn& c = conns_[i];
    while (c.written < request_.size()) {
      const ssize_t n = write(c.fd, request_.data() + c.written, request_.size() - c.written);
      if (n < 0 && errno == EAGAIN) return;  // the kernel's buffer is full: unusual for a small GET
      if (n <= 0) return fail(i);
      c.written += static_cast<std::size_t>(n);
    }
  }

  void fail(std::size_t i) {
    Conn& c = conns_[i];
    // A server closes idle keep-alive connections at a stop or an upgrade, and a request
    // can cross the close. Closed before any byte of its answer on a reused connection,
    // it is sent again once on a new one, as Go's client and browsers do (RFC 9112
    // section 9.3.1); its latency still runs from its scheduled time. Anything else in
    // flight is lost.
    const bool resend = c.busy && c.answered > 0 && c.in.empty() && !c.resent;
    if (c.busy && !resend) {
      ++errors_;
      c.queue.pop_front();
    }
    reopen(i);
    c.resent = resend;
    if (resend) ++resent_;
    c.free_since = now_ns();
    send_next(i);
  }

  void on_ready(std::uint64_t i, std::uint32_t) {
    Conn& c = conns_[i];
    char buf[16384];
    const ssize_t n = read(c.fd, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return fail(i);
    c.in.append(buf, static_cast<std::size_t>(n));
    for (;;) {
      bool keep = true;
      const std::size_t used = response_length(c.in, &keep);
      if (used == 0) return;
      c.in.erase(0, used);
      if (!c.busy) {  // an answer nobody asked for
        ++errors_;
        return fail(i);
      }
      const std::uint64_t now = now_ns();
      hist_.record(static_cast<std::int64_t>((now - c.queue.front()) / 1000));
      ++completed_;
      c.queue.pop_front();
      c.busy = false;
      c.resent = false;
      ++c.answered;
      c.free_since = now;
      if (!keep) reopen(i);
      send_next(i);
      if (!keep) return;
    }
  }

  // The length of the whole response at the front of in, 0 if it is not all there.
  static std::size_t response_length(const std::string& in, bool* keep) {
    const std::size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) return 0;
    std::size_t length = 0;
    *keep = true;
    for (std::size_t line = in.find("\r\n") + 2; line < head_end;) {
      const std::size_t eol = in.find("\r\n", line);
      std::string name = in.substr(line, in.find(':', line) - line);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const std::size_t value_at = in.find(':', line) + 1;
      const std::string value = in.substr(value_at, eol - value_at);
      if (name == "content-length") length = std::strtoull(value.c_str(), nullptr, 10);
      if (name == "connection" && value.find("close") != std::string::npos) *keep = false;
      line = eol + 2;
    }
    const std::size_t total = head_end + 4 + length;
    return in.size() >= total ? total : 0;
  }

  std::size_t in_flight() const {
    std::size_t n = 0;
    for (const Conn& c : conns_) n += c.queue.size();
    return n;
  }

  double ms(std::int64_t us) const { return static_cast<double>(us) / 1000.0; }

  int report() {
    const double p50 = ms(hist_.at_percentile(50)), p90 = ms(hist_.at_percentile(90)),
                 p99 = ms(hist_.at_percentile(99)), p999 = ms(hist_.at_percentile(99.9)),
                 p9999 = ms(hist_.at_percentile(99.99)), max = ms(hist_.max());
    if (!o_.hist.empty()) write_hist();
    if (o_.json) {
      std::printf(
          "{\"url\": \"%s\", \"rate\": %g, \"duration_s\": %g, \"connections\": %d, \"sent\": %" PRIu64
          ", \"completed\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"resent\": %" PRIu64 ", \"late_sends\": %" PRIu64
          ", \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"p9999_ms\": %.3f, "
          "\"max_ms\": %.3f}\n",
          o_.url.c_str(), o_.rate, o_.duration, o_.connections, sent_, completed_, errors_, resent_, late_, p50, p90,
          p99, p999, p9999, max);
      return 0;
    }
    std::printf("%s at %g req/s for %g s on %d connections (open loop)\n", o_.url.c_str(), o_.rate, o_.duration,
                o_.connections);
    std::printf("sent %" PRIu64 ", completed %" PRIu64 ", errors %" PRIu64 ", resent %" PRIu64 ", late sends %" PRIu64
                "\n",
                sent_, completed_, errors_, resent_, late_);
    std::printf("%10s %10s %10s %10s %10s %10s\n", "p50", "p90", "p99", "p99.9", "p99.99", "max");
    std::printf("%8.3fms %8.3fms %8.3fms %8.3fms %8.3fms %8.3fms\n", p50, p90, p99, p999, p9999, max);
    return 0;
  }

  // HdrHistogram's percentile-distribution text (milliseconds), which its plotters read.
  void write_hist() {
    FILE* f = std::fopen(o_.hist.c_str(), "w");
    if (!f) die("cannot write " + o_.hist);
    std::fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    for (int step = 0;; ++step) {
      const double q = 1.0 - std::pow(0.5, step / 5.0);  // five steps per halving of the tail
      const std::int64_t v = hist_.at_percentile(q * 100);
      const auto count = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(hist_.total())));
      std::fprintf(f, "%12.3f %14.12f %10" PRId64 " %14.2f\n", ms(v), q, count, 1 / (1 - q));
      if (v >= hist_.max() || step > 200) break;
    }
    std::fprintf(f, "%12.3f %14.12f %10" PRId64 " %14s\n", ms(hist_.max()), 1.0, hist_.total(), "inf");
    std::fprintf(f, "#[Mean    = %12.3f, Max            = %12.3f]\n", hist_.mean() / 1000, ms(hist_.max()));
    std::fprintf(f, "#[Total count    = %12" PRId64 "]\n", hist_.total());
    std::fclose(f);
  }

  const Options& o_;
  const std::string request_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int epoll_ = -1, timer_ = -1;
  std::vector<Conn> conns_;
  double interval_ns_ = 0;
  std::uint64_t start_ = 0, end_ = 0, total_ = 0, next_ = 0;
  std::uint64_t sent_ = 0, completed_ = 0, errors_ = 0, resent_ = 0, late_ = 0;
  bench::HdrHistogram hist_{kHighestUs};
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  return Generator(o).run();
}
