#include "hiserve/handler.hpp"

#include <cstring>

#include "hiserve/form.hpp"
#include "hiserve/media_type.hpp"
#include "hiserve/strings.hpp"
#include "hiserve/uri.hpp"

namespace hiserve {
namespace {

constexpr std::string_view kBodyA = "<h1 style='color: ";
constexpr std::string_view kBodyB = "'>Welcome!</h1>You are visitor number ";
constexpr std::string_view kBodyC = "!";
constexpr std::string_view kInvalid = "Optional color is invalid\n";
constexpr std::string_view kNotFound = "404 page not found\n";
constexpr std::string_view kNoNumber = "visitor counter unavailable\n";
constexpr std::string_view kColor = "color";

enum Handler : std::uint8_t { kHi, kNotFoundPage, kRedirect, kOptionsAsterisk, kBadAsterisk };

// r.URL.Path: the path %-decoded (into the arena when it has escapes).
std::string_view decoded_path(std::string_view path, Arena& arena) {
  if (path.find('%') == std::string_view::npos) return path;
  char* d = arena.alloc_chars(path.size());
  return {d, unescape_path(path, d)};
}

Plan plan_hi(const RequestHead& head, Arena& arena) {
  Plan plan;
  const Target& t = head.target;
  if (t.asterisk) {
    // Go's serverHandler answers OPTIONS * itself; ServeMux refuses any other "*".
    if (head.method == Method::Options) {
      plan.handler = kOptionsAsterisk, plan.body = BodyUse::Drain;
    } else {
      plan.handler = kBadAsterisk, plan.close = head.minor >= 1;
    }
    return plan;
  }
  const std::string_view path = t.escaped ? decoded_path(t.path, arena) : t.path;
  // ServeMux cleans every path but CONNECT's ("/hi" is clean), and redirects to the
  // clean one.
  if (path != "/hi") {
    plan.handler = head.method != Method::Connect && !is_clean_path(path) ? kRedirect : kNotFoundPage;
    return plan;
  }
  plan.handler = kHi;
  // r.FormValue reads a urlencoded body for POST, PUT and PATCH, even past a malformed
  // parameter; a multipart body for any method, when the whole type parses and names
  // a boundary. No Content-Type is Go's "application/octet-stream".
  if (head.content_type.empty()) return plan;
  const MediaType mt = parse_media_type(head.content_type, "boundary", arena);
  const bool form_method = head.method == Method::Post || head.method == Method::Put || head.method == Method::Patch;
  if (form_method && mt.parse != MediaType::Parse::Bad && iequals(mt.type, "application/x-www-form-urlencoded")) {
    plan.body = BodyUse::Urlencoded;
  } else if (mt.parse == MediaType::Parse::Ok && mt.has_param && iequals(mt.type, "multipart/form-data")) {
    plan.body = BodyUse::Multipart, plan.boundary = mt.param, plan.form_key = kColor;
  }
  return plan;
}

// r.FormValue("color"): the urlencoded body's pairs, then the query's, then the
// multipart body's values.
FormValue color_of(const Request& req, Arena& arena) {
  if (!req.form_body.empty()) {
    FormValue v = form_value(req.form_body, kColor, arena);
    if (v.found) return v;
  }
  const std::string_view query =
      req.parts.ok ? req.parts.query : parse_target(req.target, req.method == Method::Connect).query;
  FormValue v = form_value(query, kColor, arena);
  return v.found ? v : req.multipart;
}

// http.Redirect to ServeMux's cleanPath, query kept.
Served serve_redirect(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  Arena& arena = *ctx.arena;
  const Target& t = req.parts;
  const std::string_view path = decoded_path(t.path, arena);
  char* clean = arena.alloc_chars(path.size() + 2);
  const std::string_view cleaned{clean, clean_path(path, clean)};
  // url.URL{Path, RawQuery}.String(): the escaped path, then '?' and the raw query.
  const std::size_t url_len = escaped_path_size(cleaned) + (t.query.empty() ? 0 : 1 + t.query.size());
  char* url_buf = arena.alloc_chars(url_len);
  char* e = write_escaped_path(url_buf, cleaned);
  if (!t.query.empty()) *e++ = '?', e = write_bytes(e, t.query);
  const std::string_view url{url_buf, url_len};
  std::string_view location = url;
  if (const std::size_t n = hex_escaped_size(url); n != url.size()) {
    char* l = arena.alloc_chars(n);
    write_hex_escaped(l, url);
    location = {l, n};
  }
  // Go writes the short HTML body for GET only, and its Content-Type for GET and HEAD.
  constexpr std::string_view kA = "<a href=\"", kB = "\">Moved Permanently</a>.\n\n";
  const bool html = req.method == Method::Get || req.method == Method::Head;
  const std::size_t body_len = html ? kA.size() + html_escaped_size(url) + kB.size() : 0;
  const ResponseHead h{301, html ? kTextHtml : std::string_view{}, false, body_len, conn, location};
  const bool with_body = req.method == Method::Get;
  char* start = out.reserve(max_head_size(h) + (with_body ? body_len : 0));
  char* p = write_head(start, h, *ctx.date);
  if (with_body) {
    p = write_bytes(p, kA);
    p = write_html_escaped(p, url);
    p = write_bytes(p, kB);
  }
  out.commit(static_cast<std::size_t>(p - start));
  return Served::now(301, with_body ? body_len : 0);
}

Served serve_planned(const Request& req, const Plan& plan, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  const bool head_only = req.method == Method::Head;
  switch (plan.handler) {
    case kHi: return serve_hi(req, conn, ctx, out);
    case kRedirect: return serve_redirect(req, conn, ctx, out);
    case kOptionsAsterisk:  // Go's globalOptionsHandler: Content-Length: 0, nothing else
      write_response(out, {200, {}, false, 0, conn}, {}, head_only, *ctx.date);
      return Served::now(200);
    case kBadAsterisk:  // Go says "Connection: close" on HTTP/1.1 (plan.close); 1.0 keeps its own rule
      write_response(out, {400, {}, false, 0, plan.close ? ConnHeader::Close : conn}, {}, head_only, *ctx.date);
      return Served::now(400);
    default:
      write_response(out, {404, kTextPlain, true, kNotFound.size(), conn}, kNotFound, head_only, *ctx.date);
      return Served::now(404, head_only ? 0 : kNotFound.size());
  }
}

}  // namespace

const Router kHiRouter{plan_hi, serve_planned};

Served serve(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  Request parsed = req;
  parsed.parts = parse_target(req.target, req.method == Method::Connect);
  return serve_planned(parsed, plan_hi({parsed.method, parsed.parts, {}}, *ctx.arena), conn, ctx, out);
}

Served serve_hi(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  const bool head_only = req.method == Method::Head;
  // The query the demo's links send, "color=WORD" and nothing else, needs no pair
  // splitting and no decoding: a word is its own value.
  const std::string_view query = req.parts.query;
  std::string_view color;
  const bool plain = req.form_body.empty() && req.parts.ok && query.size() >= 6 &&
                     std::memcmp(query.data(), "color=", 6) == 0 &&
                     is_word(color = {query.data() + 6, query.size() - 6});
  if (!plain) color = color_of(req, *ctx.arena).value;
  if (!plain && !is_word(color)) {
    write_response(out, {400, kTextPlain, true, kInvalid.size(), conn}, kInvalid, head_only, *ctx.date);
    return Served::now(400, head_only ? 0 : kInvalid.size());
  }
  const std::uint64_t visitor = ctx.visitors->take();
  if (visitor == 0) {  // the store is down or slow and the lease ran out: try again soon
    write_response(out, {503, kTextPlain, true, kNoNumber.size(), conn, {}, "1"}, kNoNumber, head_only, *ctx.date);
    return Served::now(503, head_only ? 0 : kNoNumber.size());
  }
  char num[20];  // formatted once: its length is needed before the head is written
  const std::size_t num_len = static_cast<std::size_t>(write_uint(num, visitor) - num);
  const std::size_t body_len = kBodyA.size() + color.size() + kBodyB.size() + num_len + kBodyC.size();
  const ResponseHead h{200, kTextHtml, false, body_len, conn};
  char* start = out.reserve(max_head_size(h) + body_len);
  char* p = write_head(start, h, *ctx.date);
  if (!head_only) {
    p = write_bytes(p, kBodyA);
    p = write_bytes(p, color);
    p = write_bytes(p, kBodyB);
    p = write_bytes(p, {num, num_len});
    p = write_bytes(p, kBodyC);
  }
  out.commit(static_cast<std::size_t>(p - start));
  return Served::now(200, head_only ? 0 : body_len, visitor);
}

}  // namespace hiserve
