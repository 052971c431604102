#include "quick_head.hpp"

#include <array>
#include <cstring>

#include "hiserve/strings.hpp"
#include "hiserve/uri.hpp"

namespace hiserve {
namespace {

// Target bytes llhttp takes in any mode: RFC 3986's pchar, '/' and '?' ('#', spaces,
// controls and non-ASCII are left to llhttp). '?' and '%' are marked, for the Target.
enum : std::uint8_t { kNotTarget = 0, kPlain = 1, kQuestion = 2, kPercent = 3 };
constexpr auto kTargetChar = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = kPlain;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = kPlain;
  for (char c : std::string_view("-._~!$&'()*+,;=:@/")) t[static_cast<unsigned char>(c)] = kPlain;
  t['?'] = kQuestion, t['%'] = kPercent;
  return t;
}();

// Whether n (len bytes of token characters) is `lower` in any case: one OR per byte
// folds letters, and no other token character folds onto a letter or '-'.
bool is_name(const char* n, std::string_view lower) noexcept {
  for (std::size_t i = 0; i < lower.size(); ++i)
    if ((n[i] | 0x20) != lower[i]) return false;
  return true;
}

// Header value bytes: visible ASCII, space and tab.
constexpr auto kValueChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = true;
  t['\t'] = true;
  return t;
}();

// The header names the quick path must act on or leave to llhttp, told apart by length
// and first letter before any comparison.
enum class Name : std::uint8_t { Other, Host, Connection, Referer, UserAgent, Decline };
Name classify(const char* n, std::size_t len) noexcept {
  switch (len) {
    case 4: return is_name(n, "host") ? Name::Host : Name::Other;
    case 6: return is_name(n, "expect") ? Name::Decline : Name::Other;
    case 7: return is_name(n, "upgrade") ? Name::Decline : is_name(n, "referer") ? Name::Referer : Name::Other;
    case 10: return is_name(n, "connection") ? Name::Connection : is_name(n, "user-agent") ? Name::UserAgent : Name::Other;
    case 12: return is_name(n, "content-type") ? Name::Decline : Name::Other;
    case 14: return is_name(n, "content-length") ? Name::Decline : Name::Other;
    case 16: return is_name(n, "proxy-connection") ? Name::Decline : Name::Other;
    case 17: return is_name(n, "transfer-encoding") ? Name::Decline : Name::Other;
    default: return Name::Other;
  }
}

}  // namespace

bool read_quick_head(const char* p, const char* end, std::size_t max_bytes, QuickHead* out) noexcept {
  // Read only input that ends a line: then every scan below stops at a '\r' by end - 2
  // at the latest, and needs no bound of its own. (A read that ends mid-request is
  // rare; llhttp takes it.)
  if (end - p < 18 || end[-2] != '\r' || end[-1] != '\n') return false;
  const char* const start = p;
  // Request line: "GET " or "HEAD ", target, " HTTP/1.0" or " HTTP/1.1", CRLF.
  if (std::memcmp(p, "GET ", 4) == 0) {
    out->method = Method::Get, p += 4;
  } else if (std::memcmp(p, "HEAD ", 5) == 0) {
    out->method = Method::Head, p += 5;
  } else {
    return false;
  }
  const char* const target = p;
  if (*p != '/') return false;
  const char* question = nullptr;
  bool percent = false;  // before the '?'
  for (std::uint8_t c; (c = kTargetChar[static_cast<unsigned char>(*p)]) != kNotTarget; ++p) {
    if (__builtin_expect(c == kPlain, 1)) continue;
    if (c == kQuestion && !question) question = p;
    percent = percent || (c == kPercent && !question);
  }
  const std::string_view raw{target, static_cast<std::size_t>(p - target)};
  if (end - p < 11 || std::memcmp(p, " HTTP/1.", 8) != 0 || (p[8] != '0' && p[8] != '1') || p[9] != '\r' ||
      p[10] != '\n')
    return false;
  out->minor = static_cast<std::uint8_t>(p[8] - '0');
  p += 11;
  int hosts = 0, connections = 0;
  bool close = false, keep_alive = false;
  out->referer = out->user_agent = {};
  for (;;) {
    if (p == end) return false;  // the input ends with a header line: the head goes on
    if (*p == '\r') {
      if (p[1] != '\n') return false;
      p += 2;
      break;
    }
    const char* name = p;
    while (kTokenChar[static_cast<unsigned char>(*p)]) ++p;
    if (p == name || *p != ':') return false;
    const Name kind = classify(name, static_cast<std::size_t>(p - name));
    if (kind == Name::Decline) return false;
    ++p;
    while (*p == ' ' || *p == '\t') ++p;
    const char* value = p;
    if (kind == Name::Host) {  // httpguts.ValidHostHeader's bytes, else llhttp's 400
      if (++hosts > 1) return false;
      while (kHostHeaderChar[static_cast<unsigned char>(*p)]) ++p;
    } else {
      while (kValueChar[static_cast<unsigned char>(*p)]) ++p;
    }
    const char* value_end = p;
    while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
    while (*p == ' ' || *p == '\t') ++p;
    if (p[0] != '\r' || p[1] != '\n') return false;
    p += 2;
    const std::string_view v{value, static_cast<std::size_t>(value_end - value)};
    if (kind == Name::Referer && !out->referer.data()) out->referer = v;
    if (kind == Name::UserAgent && !out->user_agent.data()) out->user_agent = v;
    if (kind == Name::Connection) {
      if (++connections > 1) return false;
      close = iequals(v, "close");
      keep_alive = iequals(v, "keep-alive");
      if (!close && !keep_alive) return false;
    }
  }
  if (out->minor == 1 && hosts == 0) return false;
  if (static_cast<std::size_t>(p - start) > max_bytes) return false;
  out->target = raw;
  if (percent) {
    out->parts = parse_target(raw, false);  // its escapes need Go's checks
  } else {
    const std::size_t q = question ? static_cast<std::size_t>(question - target) : raw.size();
    const std::size_t query_at = question ? q + 1 : q;  // views made in place: substr's checks cost 35 instructions
    out->parts = {true, false, false, {target, q}, {target + query_at, raw.size() - query_at}};
  }
  out->wants_keep_alive = out->minor == 1 ? !close : keep_alive;
  out->length = static_cast<std::size_t>(p - start);
  return true;
}

}  // namespace hiserve
