// What a handler sees of a request: views into the read buffer (or the connection's
// arena), valid while the handler runs.
#pragma once
#include <cstdint>
#include <string_view>

namespace hiserve {

enum class Method : std::uint8_t { Get, Head, Post, Put, Patch, Other };

struct Request {
  Method method = Method::Other;
  std::string_view target;  // request-target as sent: origin-form or absolute-form
  // The body, when it is a urlencoded form that FormValue reads (POST, PUT or PATCH
  // with Content-Type application/x-www-form-urlencoded); empty otherwise.
  std::string_view form_body;
};

// The path of a request-target (origin-form or absolute-form), still escaped.
std::string_view target_path(std::string_view target) noexcept;
// The query of a request-target: everything after the first '?'.
std::string_view target_query(std::string_view target) noexcept;
// Whether Go would parse the body of this request as a form (ParseForm's rule).
bool reads_form_body(Method m, std::string_view content_type) noexcept;

}  // namespace hiserve
