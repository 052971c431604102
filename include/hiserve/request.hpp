// What a handler sees of a request: views into the read buffer (or the connection's
// arena), valid while the handler runs.
#pragma once
#include <cstdint>
#include <string_view>

#include "hiserve/form.hpp"
#include "hiserve/uri.hpp"

namespace hiserve {

enum class Method : std::uint8_t { Get, Head, Post, Put, Patch, Options, Connect, Other };

struct Request {
  Method method = Method::Other;
  std::string_view target;  // request-target as sent, already checked by parse_target
  // The body, when the route read it as a urlencoded form (Go's PostForm); else empty.
  std::string_view form_body;
  // The form value the route asked a multipart body for, when the body parsed whole.
  FormValue multipart = {};
  // target, parsed (the session parses it once; !parts.ok: not parsed yet).
  Target parts = {};
};

}  // namespace hiserve
