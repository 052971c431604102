// Go's url.ParseQuery + Values.Get, without building a map: find one key's first value
// in an application/x-www-form-urlencoded string. Decodes only when the value holds
// escapes, into the arena.
#pragma once
#include <string_view>

#include "hiserve/arena.hpp"

namespace hiserve {

struct FormValue {
  bool found = false;
  std::string_view value;  // decoded; a view into the input when it had no escapes
};

// The first pair whose decoded key equals `key`, as Go sees it: pairs split on '&',
// pairs holding ';' dropped, '+' is a space, %XX decoded, pairs with a bad escape (in
// key or value) skipped.
FormValue form_value(std::string_view encoded, std::string_view key, Arena& arena);

// Go's url.QueryUnescape into dst (room for src.size() bytes); the decoded length, or
// -1 on a bad escape.
long query_unescape(std::string_view src, char* dst) noexcept;

// Whether enc, %XX-decoded ('+' as a space when plus_is_space), equals want; false on
// a bad escape.
bool unescaped_equals(std::string_view enc, std::string_view want, bool plus_is_space) noexcept;

// Whether s matches Go's `^\w*$`: every byte in [0-9A-Za-z_].
bool is_word(std::string_view s) noexcept;

}  // namespace hiserve
