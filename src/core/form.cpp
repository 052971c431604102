#include "hiserve/form.hpp"

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

FormValue form_value(std::string_view encoded, std::string_view key, Arena& arena) {
  while (!encoded.empty()) {
    std::size_t amp = encoded.find('&');
    std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view{} : encoded.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    std::size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (!unescaped_equals(k, key, true)) continue;
    if (v.find_first_of("%+") == std::string_view::npos) return {true, v};
    char* dst = arena.alloc_chars(v.size());
    long n = query_unescape(v, dst);
    if (n < 0) continue;  // Go skips the pair and keeps looking
    return {true, {dst, static_cast<std::size_t>(n)}};
  }
  return {};
}

bool is_word(std::string_view s) noexcept {
  for (char c : s) {
    bool w = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             c == '_';
    if (!w) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace hiserve
