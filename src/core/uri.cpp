#include "hiserve/uri.hpp"

#include <array>
#include <cstdint>

namespace hiserve {
namespace {

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) noexcept { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
constexpr bool is_alnum(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Go's shouldEscape(c, encodeHost): what a host may hold unescaped.
constexpr auto kHostByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_alnum(static_cast<unsigned char>(c));
  for (char c : std::string_view("!$&'()*+,;=:[]<>\"-_.~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
// Go's shouldEscape(c, encodePath) == false: what a path keeps unescaped.
constexpr auto kPathByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_alnum(static_cast<unsigned char>(c));
  for (char c : std::string_view("-_.~$&+,/:;=@")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
// Go's validUserinfo.
constexpr auto kUserinfoByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_alnum(static_cast<unsigned char>(c));
  for (char c : std::string_view("-._:~!$&'()*+,;=%@")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

enum class Escapes : std::uint8_t { Any, Host, Zone };

// Go's unescape(s, mode) succeeds: every '%' starts a hex pair; in a host, escapes
// stand only for non-ASCII bytes (or %25), and bytes a host cannot hold are refused.
bool valid_escapes(std::string_view s, Escapes mode) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      const bool pct25 = s[i + 1] == '2' && s[i + 2] == '5';
      const int v = hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]);
      if (mode == Escapes::Host && hex_value(s[i + 1]) < 8 && !pct25) return false;
      if (mode == Escapes::Zone && !pct25 && v != ' ' && !kHostByte[static_cast<unsigned char>(v)]) return false;
      i += 3;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (mode != Escapes::Any && c < 0x80 && !kHostByte[c]) return false;
    ++i;
  }
  return true;
}

// Go's validOptionalPort: "" or ':' and digits.
bool valid_port(std::string_view p) noexcept {
  if (p.empty()) return true;
  if (p[0] != ':') return false;
  for (char c : p.substr(1))
    if (c < '0' || c > '9') return false;
  return true;
}

// Go's parseHost.
bool valid_host(std::string_view host) noexcept {
  if (!host.empty() && host[0] == '[') {
    const std::size_t close = host.rfind(']');
    if (close == std::string_view::npos || !valid_port(host.substr(close + 1))) return false;
    const std::size_t zone = host.substr(0, close).find("%25");
    if (zone != std::string_view::npos) {
      return valid_escapes(host.substr(0, zone), Escapes::Host) &&
             valid_escapes(host.substr(zone, close - zone), Escapes::Zone) &&
             valid_escapes(host.substr(close), Escapes::Host);
    }
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    if (!valid_port(host.substr(colon))) return false;
  }
  return valid_escapes(host, Escapes::Host);
}

// Go's parseAuthority: [userinfo@]host.
bool valid_authority(std::string_view a) noexcept {
  const std::size_t at = a.rfind('@');
  if (at == std::string_view::npos) return valid_host(a);
  if (!valid_host(a.substr(at + 1))) return false;
  const std::string_view user = a.substr(0, at);
  for (char c : user)
    if (!kUserinfoByte[static_cast<unsigned char>(c)]) return false;
  return valid_escapes(user, Escapes::Any);
}

// Go's getScheme: the scheme's length (0: none), or -1 for a leading ':'.
long scheme_length(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) return 0;
      continue;
    }
    if (c == ':') return i == 0 ? -1 : static_cast<long>(i);
    return 0;
  }
  return 0;
}

}  // namespace

namespace {
// What the first pass over a target looks for.
enum : std::uint8_t { kControl = 1, kQuery = 2, kPercent = 4 };
constexpr auto kTargetByte = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kControl;
  t[0x7f] = kControl, t['?'] = kQuery, t['%'] = kPercent;
  return t;
}();
}  // namespace

Target parse_target(std::string_view raw, bool connect) noexcept {
  Target t;
  if (raw.empty()) return t;
  // One pass: no control byte anywhere, the first '?', and whether what comes before
  // it holds a '%'.
  std::size_t q = std::string_view::npos;
  std::uint8_t seen = 0;  // the classes met before the first '?'
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::uint8_t c = kTargetByte[static_cast<unsigned char>(raw[i])];
    if (__builtin_expect(c == 0, 1)) continue;
    if (c == kControl) return t;
    if (c == kQuery && q == std::string_view::npos) q = i;
    if (q == std::string_view::npos) seen |= c;
  }
  const bool percent = seen & kPercent;
  // Empty parts are views at the end of raw, never null: TargetSpans keeps offsets.
  const std::string_view none = raw.substr(raw.size());
  t.query = q != std::string_view::npos ? raw.substr(q + 1) : none;
  std::string_view rest = raw.substr(0, q);
  if (raw[0] == '/' && !connect) {  // origin-form, nearly every request
    t.escaped = percent;
    if (percent && !valid_escapes(rest, Escapes::Any)) return t;
    t.path = rest;
    t.ok = true;
    return t;
  }
  if (raw == "*") {
    t.ok = t.asterisk = true;
    t.path = raw;
    return t;
  }
  // CONNECT's authority-form is read as "http://" + target.
  const bool authority_form = connect && raw[0] != '/';
  bool scheme = authority_form;
  if (!authority_form && raw[0] != '/') {
    const long n = scheme_length(rest);
    if (n < 0) return t;
    scheme = n > 0;
    if (scheme) rest.remove_prefix(static_cast<std::size_t>(n) + 1);
  }
  if (authority_form || (scheme && rest.substr(0, 2) == "//")) {
    std::string_view authority = authority_form ? rest : rest.substr(2);
    const std::size_t slash = authority.find('/');
    rest = slash == std::string_view::npos ? none : authority.substr(slash);
    if (!valid_authority(authority.substr(0, slash))) return t;
  } else if (rest.empty() || rest[0] != '/') {
    if (!scheme) return t;  // "invalid URI for request"
    rest = none;            // opaque: no path
  }
  t.escaped = percent && rest.find('%') != std::string_view::npos;
  if (t.escaped && !valid_escapes(rest, Escapes::Any)) return t;
  t.path = rest;
  t.ok = true;
  return t;
}

std::size_t unescape_path(std::string_view path, char* dst) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%') {
      dst[n++] = static_cast<char>(hex_value(path[i + 1]) << 4 | hex_value(path[i + 2]));
      i += 2;
    } else {
      dst[n++] = path[i];
    }
  }
  return n;
}

bool is_clean_path(std::string_view path) noexcept {
  if (path.empty() || path[0] != '/') return false;
  std::size_t seg = 1;  // start of the current element
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string_view e = path.substr(seg, i - seg);
    if (e == "." || e == ".." || (e.empty() && i < path.size())) return false;
    seg = i + 1;
  }
  return true;
}

std::size_t clean_path(std::string_view p, char* dst) noexcept {
  // Go's path.Clean for a rooted path, then cleanPath's trailing slash.
  std::size_t w = 0;
  dst[w++] = '/';
  const std::size_t n = p.size();
  std::size_t r = !p.empty() && p[0] == '/' ? 1 : 0;
  while (r < n) {
    if (p[r] == '/') {
      ++r;
    } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
      ++r;
    } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
      r += 2;
      if (w > 1) {
        --w;
        while (w > 1 && dst[w] != '/') --w;
      }
    } else {
      if (w != 1) dst[w++] = '/';
      for (; r < n && p[r] != '/'; ++r) dst[w++] = p[r];
    }
  }
  if (!p.empty() && p.back() == '/' && w != 1) dst[w++] = '/';
  return w;
}

std::size_t escaped_path_size(std::string_view path) noexcept {
  std::size_t n = path.size();
  for (char c : path) n += kPathByte[static_cast<unsigned char>(c)] ? 0 : 2;
  return n;
}

char* write_escaped_path(char* p, std::string_view path) noexcept {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (kPathByte[b]) {
      *p++ = c;
    } else {
      *p++ = '%', *p++ = kUpper[b >> 4], *p++ = kUpper[b & 15];
    }
  }
  return p;
}

std::size_t hex_escaped_size(std::string_view s) noexcept {
  std::size_t n = s.size();
  for (char c : s) n += static_cast<unsigned char>(c) >= 0x80 ? 2 : 0;
  return n;
}

char* write_hex_escaped(char* p, std::string_view s) noexcept {
  static constexpr char kLower[] = "0123456789abcdef";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      *p++ = c;
    } else {
      *p++ = '%', *p++ = kLower[b >> 4], *p++ = kLower[b & 15];
    }
  }
  return p;
}

namespace {
std::string_view html_entity(char c) noexcept {
  switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&#34;";
    case '\'': return "&#39;";
    default: return {};
  }
}
}  // namespace

std::size_t html_escaped_size(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) {
    const std::string_view e = html_entity(c);
    n += e.empty() ? 1 : e.size();
  }
  return n;
}

char* write_html_escaped(char* p, std::string_view s) noexcept {
  for (char c : s) {
    const std::string_view e = html_entity(c);
    if (e.empty()) {
      *p++ = c;
    } else {
      for (char x : e) *p++ = x;
    }
  }
  return p;
}

}  // namespace hiserve
