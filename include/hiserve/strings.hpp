// Byte-level string helpers the layers share: ASCII case folding, HTTP's optional
// whitespace, and RFC 9110's token characters as a table (picohttpparser's
// token_char_map), so a check costs one load per byte.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace hiserve {

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

// s without leading and trailing spaces and tabs (HTTP's OWS).
std::string_view trim_ows(std::string_view s) noexcept;

// 1 for RFC 9110 tchar ("!#$%&'*+-.^_`|~", digits, letters), else 0.
inline constexpr std::array<std::uint8_t, 256> kTokenChar = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = 1;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = 1, t[c - 32] = 1;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = 1;
  return t;
}();

// httpguts.ValidHostHeader's bytes: every byte a host, port or IPv6 literal may hold.
inline constexpr std::array<bool, 256> kHostHeaderChar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (char c : std::string_view("!$%&()*+,-.:;=[]'_~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// Whether s is a non-empty RFC 9110 token.
bool is_token(std::string_view s) noexcept;

}  // namespace hiserve
