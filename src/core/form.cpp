#include "hiserve/form.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace hiserve {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the byte at s[i] (a '%XX', '+' or plain byte) and advances i; -1 on a bad
// escape.
int next_decoded(std::string_view s, std::size_t& i, bool plus_is_space = true) noexcept {
  char c = s[i];
  if (c == '%') {
    if (i + 2 >= s.size()) return -1;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return -1;
    i += 3;
    return hi << 4 | lo;
  }
  ++i;
  return c == '+' && plus_is_space ? ' ' : static_cast<unsigned char>(c);
}

}  // namespace

bool unescaped_equals(std::string_view enc, std::string_view want, bool plus_is_space) noexcept {
  std::size_t i = 0, j = 0;
  while (i < enc.size()) {
    int c = next_decoded(enc, i, plus_is_space);
    if (c < 0 || j == want.size() || static_cast<unsigned char>(want[j]) != c) return false;
    ++j;
  }
  return j == want.size();
}

long query_unescape(std::string_view src, char* dst) noexcept {
  std::size_t i = 0;
  long n = 0;
  while (i < src.size()) {
    int c = next_decoded(src, i);
    if (c < 0) return -1;
    dst[n++] = static_cast<char>(c);
  }
  return n;
}

namespace {
// Bytes form_value must notice in a pair; every other byte costs one table test.
enum : std::uint8_t { kAmp = 1, kSemicolon = 2, kEquals = 4, kEscape = 8 };
constexpr auto kFormClass = [] {
  std::array<std::uint8_t, 256> t{};
  t['&'] = kAmp, t[';'] = kSemicolon, t['='] = kEquals, t['%'] = kEscape, t['+'] = kEscape;
  return t;
}();
}  // namespace

FormValue form_value(std::string_view encoded, std::string_view key, Arena& arena) {
  const char* p = encoded.data();
  const char* const end = p + encoded.size();
  while (p < end) {
    // One pass over the pair finds its '=' and whether it holds ';' or escapes (a
    // memchr per question cost more than the whole match: pprof, BenchmarkHiColor).
    const char* const start = p;
    const char* eq = nullptr;
    unsigned key_seen = 0, value_seen = 0;  // kSemicolon | kEscape bits
    for (; p < end; ++p) {
      const unsigned c = kFormClass[static_cast<unsigned char>(*p)];
      if (c == 0) continue;
      if (c == kAmp) break;
      if (c == kEquals && !eq) eq = p;
      else (eq ? value_seen : key_seen) |= c;
    }
    const char* const pair_end = p;
    if (p < end) ++p;  // the '&'
    if (start == pair_end || ((key_seen | value_seen) & kSemicolon)) continue;
    std::string_view k(start, static_cast<std::size_t>((eq ? eq : pair_end) - start));
    std::string_view v = eq ? std::string_view(eq + 1, static_cast<std::size_t>(pair_end - eq - 1)) : std::string_view{};
    if ((key_seen & kEscape) ? !unescaped_equals(k, key, true) : k != key) continue;
    if (!(value_seen & kEscape)) return {true, v};
    char* dst = arena.alloc_chars(v.size());
    long n = query_unescape(v, dst);
    if (n < 0) continue;  // Go skips the pair and keeps looking
    return {true, {dst, static_cast<std::size_t>(n)}};
  }
  return {};
}

bool is_word(std::string_view s) noexcept {
  static constexpr auto kWord = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
    t['_'] = true;
    return t;
  }();
  for (char c : s)
    if (!kWord[static_cast<unsigned char>(c)]) return false;
  return true;
}

}  // namespace hiserve
