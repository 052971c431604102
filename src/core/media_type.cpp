#include "hiserve/media_type.hpp"

#include <cstdint>
#include <cstring>

#include "hiserve/strings.hpp"

namespace hiserve {
namespace {

// Go's unicode.IsSpace over UTF-8: the byte length of the space rune s starts (or,
// for space_suffix, ends) with, or 0.
std::size_t space_rune(std::string_view s, bool at_end) noexcept {
  static constexpr std::string_view kMulti[] = {
      "\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF",
      "\xE2\x81\x9F", "\xE3\x80\x80"};
  if (s.empty()) return 0;
  const char c = at_end ? s.back() : s.front();
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  auto has = [&](std::string_view r) {
    return s.size() >= r.size() && (at_end ? s.substr(s.size() - r.size()) : s.substr(0, r.size())) == r;
  };
  for (std::string_view r : kMulti)
    if (has(r)) return r.size();
  for (char last = '\x80'; last <= '\x8A'; ++last) {  // U+2000..U+200A
    const char r[] = {'\xE2', '\x80', last};
    if (has({r, 3})) return 3;
  }
  return 0;
}

std::string_view trim_left_space(std::string_view s) noexcept {
  while (std::size_t n = space_rune(s, false)) s.remove_prefix(n);
  return s;
}
std::string_view trim_space(std::string_view s) noexcept {
  s = trim_left_space(s);
  while (std::size_t n = space_rune(s, true)) s.remove_suffix(n);
  return s;
}

bool is_tspecial(char c) noexcept { return c != 0 && std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr; }
// RFC 2045's token: what consumeToken takes.
std::size_t token_length(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) > 0x20 && static_cast<unsigned char>(s[i]) < 0x7f &&
         !is_tspecial(s[i]))
    ++i;
  return i;
}

struct Param {
  std::string_view key;
  std::string_view raw;  // a token, or a quoted string's inside
  bool quoted;
};

// consumeValue: a token or a quoted-string at the front of s; the bytes taken, or 0.
std::size_t consume_value(std::string_view s, Param* p) noexcept {
  if (s.empty()) return 0;
  if (s[0] != '"') {
    const std::size_t n = token_length(s);
    p->raw = s.substr(0, n), p->quoted = false;
    return n;
  }
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '"') {
      p->raw = s.substr(1, i - 1), p->quoted = true;
      return i + 1;
    }
    if (s[i] == '\\' && i + 1 < s.size() && is_tspecial(s[i + 1])) {
      ++i;
    } else if (s[i] == '\r' || s[i] == '\n') {
      return 0;
    }
  }
  return 0;  // no closing quote
}

// A quoted string's value: a backslash before a tspecial is dropped (Go keeps one
// before anything else, for MSIE's file paths).
std::string_view value_of(const Param& p, Arena& arena) {
  if (!p.quoted || p.raw.find('\\') == std::string_view::npos) return p.raw;
  char* out = arena.alloc_chars(p.raw.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < p.raw.size(); ++i) {
    if (p.raw[i] == '\\' && i + 1 < p.raw.size() && is_tspecial(p.raw[i + 1])) ++i;
    out[n++] = p.raw[i];
  }
  return {out, n};
}

int unhex(char c) noexcept { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// Go's percentHexUnescape, appended at out; false (nothing written) on a bad escape.
bool percent_unescape(std::string_view s, char* out, std::size_t* n) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      out[(*n)++] = static_cast<char>(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
      i += 2;
    } else {
      out[(*n)++] = s[i];
    }
  }
  return true;
}

// Go's decode2231Enc: charset'language'percent-encoded, charset us-ascii or utf-8.
bool decode_2231(std::string_view v, char* out, std::size_t* n) noexcept {
  const std::size_t a = v.find('\'');
  const std::size_t b = a == std::string_view::npos ? a : v.find('\'', a + 1);
  if (b == std::string_view::npos) return false;
  const std::string_view charset = v.substr(0, a);
  if (!iequals(charset, "us-ascii") && !iequals(charset, "utf-8")) return false;
  return percent_unescape(v.substr(b + 1), out, n);
}

// For a key "want*N" or "want*N*": N, and whether it ends in '*'; -1 if not such a key.
long continuation_index(std::string_view key, std::string_view want, bool* encoded) noexcept {
  if (key.size() <= want.size() + 1 || !iequals(key.substr(0, want.size()), want) || key[want.size()] != '*') return -1;
  std::string_view digits = key.substr(want.size() + 1);
  *encoded = digits.back() == '*';
  if (*encoded) digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 9 || (digits[0] == '0' && digits.size() > 1)) return -1;
  long n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::uint32_t key_hash(std::string_view k) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : k) h = (h ^ static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
  return h;
}

// Whether any key is named twice (keys are case-insensitive): a small open-addressing
// set in the arena, so a header of thousands of parameters costs linear time.
bool has_duplicate(const Param* ps, std::size_t n, Arena& arena) {
  if (n < 2) return false;
  std::size_t cap = 4;
  while (cap < 2 * n) cap *= 2;
  auto* slots = static_cast<std::uint32_t*>(arena.alloc(cap * sizeof(std::uint32_t)));
  std::memset(slots, 0xff, cap * sizeof(std::uint32_t));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t s = key_hash(ps[i].key) & (cap - 1);; s = (s + 1) & (cap - 1)) {
      if (slots[s] == ~std::uint32_t{0}) {
        slots[s] = static_cast<std::uint32_t>(i);
        break;
      }
      if (iequals(ps[slots[s]].key, ps[i].key)) return true;
    }
  }
  return false;
}

}  // namespace

MediaType parse_media_type(std::string_view v, std::string_view want, Arena& arena) {
  MediaType m;
  const std::string_view base = v.substr(0, v.find(';'));
  const std::string_view type = trim_space(base);
  // checkMediaTypeDisposition: token, or token "/" token.
  const std::size_t t = token_length(type);
  if (t == 0) return m;
  if (t < type.size()) {
    if (type[t] != '/') return m;
    if (const std::size_t st = token_length(type.substr(t + 1)); st == 0 || t + 1 + st != type.size()) return m;
  }
  m.type = type;

  std::string_view rest = v.substr(base.size());
  std::size_t semicolons = 0;
  for (char c : rest) semicolons += c == ';';
  Param* params = semicolons ? static_cast<Param*>(arena.alloc(semicolons * sizeof(Param))) : nullptr;
  std::size_t n = 0;
  for (;;) {
    rest = trim_left_space(rest);
    if (rest.empty()) break;
    // consumeMediaParam: ';' key '=' value, spaces around each.
    Param p{};
    std::string_view r = rest;
    bool ok = r[0] == ';';
    if (ok) {
      r = trim_left_space(r.substr(1));
      const std::size_t k = token_length(r);
      p.key = r.substr(0, k);
      r = trim_left_space(r.substr(k));
      ok = k > 0 && !r.empty() && r[0] == '=';
    }
    std::size_t taken = 0;
    if (ok) {
      r = trim_left_space(r.substr(1));
      taken = consume_value(r, &p);
      ok = taken > 0;
    }
    if (!ok) {
      if (trim_space(rest) == ";") break;  // a trailing ';' is fine
      m.parse = MediaType::Parse::BadParams;
      return m;
    }
    params[n++] = p;
    rest = r.substr(taken);
  }
  if (has_duplicate(params, n, arena)) {
    m.type = {};
    return m;
  }
  m.parse = MediaType::Parse::Ok;
  if (n == 0) return m;

  // The plain parameter, then RFC 2231's want* or want*0, want*1... which replace it.
  std::size_t room = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (iequals(params[i].key, want)) m.has_param = true, m.param = value_of(params[i], arena);
    room += params[i].raw.size();
  }
  const Param* single = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view k = params[i].key;
    if (k.size() == want.size() + 1 && k.back() == '*' && iequals(k.substr(0, want.size()), want)) single = &params[i];
  }
  char* out = nullptr;
  std::size_t len = 0;
  if (single) {
    const std::string_view sv = value_of(*single, arena);
    out = arena.alloc_chars(sv.size());
    if (decode_2231(sv, out, &len)) m.has_param = true, m.param = {out, len};
    return m;
  }
  // want*N and want*N* by N: parts past n cannot all be present, so n slots do.
  auto* simple = static_cast<const Param**>(arena.alloc(n * sizeof(Param*)));
  auto* encoded = static_cast<const Param**>(arena.alloc(n * sizeof(Param*)));
  for (std::size_t i = 0; i < n; ++i) simple[i] = encoded[i] = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    bool enc = false;
    const long part = continuation_index(params[i].key, want, &enc);
    if (part >= 0 && static_cast<std::size_t>(part) < n) (enc ? encoded : simple)[part] = &params[i];
  }
  bool valid = false;
  for (std::size_t part = 0; part < n && (simple[part] || encoded[part]); ++part) {
    if (!out) out = arena.alloc_chars(room);
    valid = true;
    const std::string_view sv = value_of(simple[part] ? *simple[part] : *encoded[part], arena);
    if (simple[part]) {
      std::memcpy(out + len, sv.data(), sv.size());
      len += sv.size();
    } else {
      const std::size_t before = len;
      if (!(part == 0 ? decode_2231(sv, out, &len) : percent_unescape(sv, out, &len))) len = before;
    }
  }
  if (valid) m.has_param = true, m.param = {out, len};
  return m;
}

}  // namespace hiserve
