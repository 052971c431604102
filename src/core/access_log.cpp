#include "hiserve/access_log.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "hiserve/alloc.hpp"
#include "hiserve/response.hpp"

namespace hiserve {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";  // nginx's

// Bytes written as they are: combined's printable ASCII but '"' and '\\'; json's also
// takes 0x7F and leaves bytes from 0x80 to its UTF-8 check.
constexpr auto kCombinedPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();
constexpr auto kJsonPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// Word-at-a-time tests (Anderson's bit hacks): whether any of 8 bytes is below n
// (n <= 128), or equals b; exact for "any", which is all that is asked.
constexpr std::uint64_t kOnes = 0x0101010101010101u, kHighs = 0x8080808080808080u;
std::uint64_t load8(const void* p) noexcept {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
bool has_less(std::uint64_t x, unsigned n) noexcept { return ((x - kOnes * n) & ~x & kHighs) != 0; }
bool has_byte(std::uint64_t x, unsigned b) noexcept { return has_less(x ^ (kOnes * b), 1); }

char* escape_combined_byte(char* p, unsigned char c) noexcept {
  if (kCombinedPlain[c]) {
    *p = static_cast<char>(c);
    return p + 1;
  }
  p[0] = '\\', p[1] = 'x', p[2] = kHex[c >> 4], p[3] = kHex[c & 15];
  return p + 4;
}

// The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0.
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned c = p[0];
  unsigned lo = 0x80, hi = 0xbf;  // the second byte's range (RFC 3629's table)
  std::size_t n;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
  else return 0;
  if (static_cast<std::size_t>(end - p) < n || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((p[i] & 0xc0) != 0x80) return 0;
  return n;
}

// The part of s a line shows; *cut when the rest is left off.
std::string_view capped(std::string_view s, bool* cut) noexcept {
  *cut = s.size() > kLogFieldMax;
  return *cut ? s.substr(0, kLogFieldMax) : s;
}

// The most bytes a field takes in a line: every byte escaped, quotes, "...".
std::size_t field_bound(std::string_view s) noexcept { return (s.size() < kLogFieldMax ? s.size() : kLogFieldMax) * 6 + 8; }

char* quoted_combined(char* p, std::string_view s) noexcept {
  *p++ = '"';
  if (!s.data()) {
    *p++ = '-';
  } else {
    bool cut;
    p = escape_combined(p, capped(s, &cut));
    if (cut) p = write_bytes(p, "...");
  }
  *p++ = '"';
  return p;
}

// "name":"value", or "name":null when the value was not read.
// (plain: s needs no escaping and is not over the cap.)
char* json_field(char* p, std::string_view name, std::string_view s, bool plain = false) noexcept {
  *p++ = ',', *p++ = '"', p = write_bytes(p, name), *p++ = '"', *p++ = ':';
  if (!s.data()) return write_bytes(p, "null");
  bool cut = false;
  *p++ = '"';
  p = plain ? write_bytes(p, s) : escape_json(p, capped(s, &cut));
  if (cut) p = write_bytes(p, "...");
  *p++ = '"';
  return p;
}

// Whether the record's request line may be copied as it is: known plain, and short
// enough that no part of it is over the cap.
bool plain_line(const AccessRecord& r) noexcept {
  return r.plain_line.data() && r.plain_line.size() <= kLogFieldMax;
}

bool same_peer(const PeerAddress& a, const PeerAddress& b) noexcept {
  return load8(a.bytes) == load8(b.bytes) && load8(a.bytes + 8) == load8(b.bytes + 8) && a.family == b.family;
}

// An HTTP status: three digits. Unsigned, so each division is a multiply and a shift
// (a signed one adds sign fix-ups: 36 instructions a line, against 22).
char* write_status(char* p, int status) noexcept {
  const unsigned s = static_cast<unsigned>(status), hundreds = s / 100, rest = s - hundreds * 100;
  p[0] = static_cast<char>('0' + hundreds), p[1] = static_cast<char>('0' + rest / 10);
  p[2] = static_cast<char>('0' + rest % 10);
  return p + 3;
}

char* json_number(char* p, std::string_view name, std::uint64_t v) noexcept {
  *p++ = ',', *p++ = '"', p = write_bytes(p, name), *p++ = '"', *p++ = ':';
  return write_uint(p, v);
}

// When stderr last heard of a failed write: at most one line a minute, whichever
// loop's write failed.
std::atomic<std::int64_t> g_last_warning_s{-60};

}  // namespace

char* escape_combined(char* p, std::string_view s) noexcept {
  const char* in = s.data();
  const char* end = in + s.size();
  for (; end - in >= 8; in += 8) {  // eight plain bytes at a time, the common case
    const std::uint64_t x = load8(in);
    if (!has_less(x, 0x20) && !(x & kHighs) && !has_byte(x, 0x7f) && !has_byte(x, '"') && !has_byte(x, '\\')) {
      std::memcpy(p, in, 8);
      p += 8;
      continue;
    }
    for (int i = 0; i < 8; ++i) p = escape_combined_byte(p, static_cast<unsigned char>(in[i]));
  }
  for (; in < end; ++in) p = escape_combined_byte(p, static_cast<unsigned char>(*in));
  return p;
}

char* escape_json(char* p, std::string_view s) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = u + s.size();
  while (u < end) {
    if (end - u >= 8) {  // eight plain ASCII bytes at a time, the common case
      const std::uint64_t x = load8(u);
      if (!has_less(x, 0x20) && !(x & kHighs) && !has_byte(x, '"') && !has_byte(x, '\\')) {
        std::memcpy(p, u, 8);
        p += 8, u += 8;
        continue;
      }
    }
    const unsigned c = *u;
    if (kJsonPlain[c]) {
      *p++ = static_cast<char>(c), ++u;
    } else if (c == '"' || c == '\\') {
      p[0] = '\\', p[1] = static_cast<char>(c), p += 2, ++u;
    } else if (std::size_t n = c >= 0x80 ? utf8_sequence(u, end) : 0) {
      std::memcpy(p, u, n), p += n, u += n;
    } else {  // a control byte, or one that is not valid UTF-8
      std::memcpy(p, "\\u00", 4), p[4] = kHex[c >> 4], p[5] = kHex[c & 15];
      p += 6, ++u;
    }
  }
  return p;
}

char* write_peer(char* p, const PeerAddress& a) noexcept {
  if (a.family == 4) {
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      p = write_uint(p, a.bytes[i]);
    }
    return p;
  }
  if (a.family != 6) return write_bytes(p, "-");
  char text[INET6_ADDRSTRLEN];
  return write_bytes(p, inet_ntop(AF_INET6, a.bytes, text, sizeof text) ? text : "-");
}

std::uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

AccessLog::AccessLog(int fd, AccessLogFormat format, const DateCache& date, LoopStats& stats)
    : fd_(fd), format_(format), date_(&date), stats_(&stats), buf_(static_cast<char*>(mem::alloc(kBufferBytes))) {}

AccessLog::~AccessLog() { mem::release(buf_); }

void AccessLog::record(const AccessRecord& r) noexcept {
  std::size_t bound = 320 + field_bound(r.referer) + field_bound(r.user_agent);
  bound += plain_line(r) ? r.plain_line.size() : field_bound(r.method) + field_bound(r.target) + field_bound(r.protocol);
  if (len_ + bound > kBufferBytes) flush();
  char* p = buf_ + len_;
  p = format_ == AccessLogFormat::Json ? json(p, r) : combined(p, r);
  *p++ = '\n';
  len_ = static_cast<std::size_t>(p - buf_);
  ++lines_;
}

char* AccessLog::prefix(char* p, const PeerAddress* a) noexcept {
  // What starts every line from one peer in one second: formatted once, then copied.
  const PeerAddress& peer = a ? *a : PeerAddress{};
  if (date_->second() != prefix_second_ || !same_peer(peer, prefix_peer_)) {
    prefix_second_ = date_->second(), prefix_peer_ = peer;
    char* q = prefix_;
    if (format_ == AccessLogFormat::Json) {
      q = write_bytes(q, "{\"time\":\"");
      q = write_bytes(q, date_->utc());
      q = write_bytes(q, "\",\"remote_addr\":\"");
      q = write_peer(q, peer);
      *q++ = '"';
    } else {
      q = write_peer(q, peer);
      q = write_bytes(q, " - - [");
      q = write_bytes(q, date_->local());
      q = write_bytes(q, "] \"");
    }
    prefix_len_ = static_cast<std::uint8_t>(q - prefix_);
  }
  // A fixed-size copy is a few stores, not a call: the line's bound leaves room past it.
  // An IPv4 peer's prefix (45 bytes) takes half of them.
  static_assert(sizeof prefix_ == 128);
  if (prefix_len_ <= 64) std::memcpy(p, prefix_, 64);
  else std::memcpy(p, prefix_, sizeof prefix_);
  return p + prefix_len_;
}

char* AccessLog::combined(char* p, const AccessRecord& r) noexcept {
  // $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
  p = prefix(p, r.peer);
  if (plain_line(r)) {
    p = write_bytes(p, r.plain_line);
  } else {
    bool any = false;
    for (std::string_view part : {r.method, r.target, r.protocol}) {
      if (!part.data()) continue;
      if (any) *p++ = ' ';
      bool cut;
      p = escape_combined(p, capped(part, &cut));
      if (cut) p = write_bytes(p, "...");
      any = true;
    }
    if (!any) *p++ = '-';
  }
  p = write_bytes(p, "\" ");
  p = write_status(p, r.status);
  *p++ = ' ';
  p = write_uint(p, r.body_bytes);
  *p++ = ' ';
  p = quoted_combined(p, r.referer);
  *p++ = ' ';
  return quoted_combined(p, r.user_agent);
}

char* AccessLog::json(char* p, const AccessRecord& r) noexcept {
  p = prefix(p, r.peer);
  const bool plain = plain_line(r);
  p = json_field(p, "method", r.method, plain);
  p = json_field(p, "uri", r.target, plain);
  p = json_field(p, "protocol", r.protocol, plain);
  p = write_bytes(p, ",\"status\":");
  p = write_status(p, r.status);
  p = json_number(p, "body_bytes_sent", r.body_bytes);
  p = json_field(p, "referer", r.referer);
  p = json_field(p, "user_agent", r.user_agent);
  // Seconds, to the microsecond.
  const std::uint64_t us = r.started_ns ? (monotonic_ns() - r.started_ns) / 1000 : 0;
  p = json_number(p, "request_time", us / 1'000'000);
  *p++ = '.';
  for (std::uint64_t frac = us % 1'000'000, div = 100'000; div > 0; div /= 10) *p++ = static_cast<char>('0' + frac / div % 10);
  p = write_bytes(p, ",\"visitor\":");
  p = r.visitor ? write_uint(p, r.visitor) : write_bytes(p, "null");
  *p++ = '}';
  return p;
}

void AccessLog::flush() noexcept {
  if (len_ == 0) return;
  std::size_t done = 0;
  while (done < len_) {
    const ssize_t n = ::write(fd_, buf_ + done, len_ - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  std::uint64_t written = lines_;
  if (done < len_) {
    const int err = errno;
    written = 0;
    for (const char* q = buf_; (q = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(buf_ + done - q))));
         ++q)
      ++written;
    LoopStats::bump(stats_->log_dropped, lines_ - written);
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    std::int64_t last = g_last_warning_s.load(std::memory_order_relaxed);
    if (now - last >= 60 && g_last_warning_s.compare_exchange_strong(last, now, std::memory_order_relaxed))
      std::fprintf(stderr, "hiserve: access log: write failed (%s); dropping lines until it works again\n",
                   std::strerror(err ? err : EIO));
  }
  LoopStats::bump(stats_->log_lines, written);
  len_ = 0;
  lines_ = 0;
}

}  // namespace hiserve
