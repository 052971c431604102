#include "hiserve/handler.hpp"

#include "hiserve/form.hpp"

namespace hiserve {
namespace {

constexpr std::string_view kBodyA = "<h1 style='color: ";
constexpr std::string_view kBodyB = "'>Welcome!</h1>You are visitor number ";
constexpr std::string_view kBodyC = "!";
constexpr std::string_view kInvalid = "Optional color is invalid\n";
constexpr std::string_view kNotFound = "404 page not found\n";

// Go's mux matches the decoded path ('+' stays '+' in a path).
bool path_is(std::string_view path, std::string_view want) noexcept {
  return path == want || unescaped_equals(path, want, /*plus_is_space=*/false);
}

// r.FormValue("color"): the body's pairs first (when Go would parse it), then the query.
FormValue color_of(const Request& req, Arena& arena) {
  if (!req.form_body.empty()) {
    FormValue v = form_value(req.form_body, "color", arena);
    if (v.found) return v;
  }
  return form_value(target_query(req.target), "color", arena);
}

}  // namespace

void serve_hi(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  const bool head_only = req.method == Method::Head;
  std::string_view color = color_of(req, *ctx.arena).value;
  if (!is_word(color)) {
    write_response(out, {400, kTextPlain, true, kInvalid.size(), conn}, kInvalid, head_only,
                   *ctx.date);
    return;
  }
  char num[20];  // formatted once: its length is needed before the head is written
  const std::size_t num_len = static_cast<std::size_t>(write_uint(num, ctx.visitors->next()) - num);
  const std::size_t body_len = kBodyA.size() + color.size() + kBodyB.size() + num_len + kBodyC.size();
  char* start = out.reserve(max_head_size(kTextHtml) + body_len);
  char* p = write_head(start, {200, kTextHtml, false, body_len, conn}, *ctx.date);
  if (!head_only) {
    p = write_bytes(p, kBodyA);
    p = write_bytes(p, color);
    p = write_bytes(p, kBodyB);
    p = write_bytes(p, {num, num_len});
    p = write_bytes(p, kBodyC);
  }
  out.commit(static_cast<std::size_t>(p - start));
}

void serve(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  if (path_is(target_path(req.target), "/hi")) return serve_hi(req, conn, ctx, out);
  write_response(out, {404, kTextPlain, true, kNotFound.size(), conn}, kNotFound,
                 req.method == Method::Head, *ctx.date);
}

}  // namespace hiserve
