// Go's mime.ParseMediaType, as far as FormValue depends on it: which Content-Type
// makes Go read a body as a form, and the one parameter a caller needs (a multipart
// boundary, a part's name or filename). Case-insensitive type, ';' parameters, quoted
// strings with backslash escapes, RFC 2231 continuations, duplicates refused.
#pragma once
#include <string_view>

#include "hiserve/arena.hpp"

namespace hiserve {

struct MediaType {
  enum class Parse : unsigned char {
    Ok,         // type and every parameter parsed
    BadParams,  // the type parsed, a parameter did not (Go: ErrInvalidMediaParameter)
    Bad,        // no usable type: malformed, or a parameter named twice
  };
  Parse parse = Parse::Bad;
  std::string_view type;  // "type/subtype" or a lone token, as sent (compare with iequals)
  bool has_param = false;
  std::string_view param;  // the wanted parameter's value, decoded (Ok only)
};

// Parses v the way mime.ParseMediaType does, picking out the parameter named `want`
// (lower case). Decoded values live in the arena.
MediaType parse_media_type(std::string_view v, std::string_view want, Arena& arena);

}  // namespace hiserve
