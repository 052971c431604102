#include "talk_steps.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <regex>
#include <vector>

#include "hiserve/form.hpp"
#include "hiserve/uri.hpp"

namespace talk {
namespace {

using hiserve::ConnHeader;
using hiserve::Method;
using hiserve::Request;

// Go's url.QueryUnescape on a std::string; nullopt on a bad escape.
std::optional<std::string> unescape(std::string_view s) {
  std::string d(s.size(), '\0');
  long n = hiserve::query_unescape(s, d.data());
  if (n < 0) return std::nullopt;
  d.resize(static_cast<std::size_t>(n));
  return d;
}

// url.Values: every key's values, in order.
using Values = std::map<std::string, std::vector<std::string>>;

// url.ParseQuery into v (pairs with ';' or a bad escape dropped).
void parse_query(std::string_view s, Values& v) {
  while (!s.empty()) {
    std::size_t amp = s.find('&');
    std::string pair(s.substr(0, amp));
    s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string::npos) continue;
    std::size_t eq = pair.find('=');
    auto key = unescape(pair.substr(0, eq));
    auto value = unescape(eq == std::string::npos ? std::string() : pair.substr(eq + 1));
    if (key && value) v[*key].push_back(*value);
  }
}

// r.ParseForm: the body's values first, then the query's.
Values parse_form(const Request& req) {
  Values body, query;
  parse_query(req.form_body, body);
  parse_query(hiserve::parse_target(req.target, false).query, query);
  for (auto& [k, vs] : query) body[k].insert(body[k].end(), vs.begin(), vs.end());
  return body;
}

// r.FormValue(key).
std::string form_value(const Values& form, const std::string& key) {
  auto it = form.find(key);
  return it == form.end() || it->second.empty() ? std::string() : it->second.front();
}

// An http.ResponseWriter that keeps headers in a map and writes on finish().
struct MapWriter {
  int status = 200;
  std::map<std::string, std::string> header;
  std::string body;

  void error(const std::string& msg, int code) {  // http.Error
    header["Content-Type"] = "text/plain; charset=utf-8";
    header["X-Content-Type-Options"] = "nosniff";
    status = code;
    body = msg + "\n";
  }

  void finish(const Request& req, ConnHeader conn, const Env& env, std::string& out) const {
    out += "HTTP/1.1 " + std::to_string(status) + " " + std::string(hiserve::reason_phrase(status)) + "\r\n";
    for (const char* name : {"Content-Type", "X-Content-Type-Options"}) {
      auto it = header.find(name);
      if (it != header.end()) out += std::string(name) + ": " + it->second + "\r\n";
    }
    out += "Date: " + std::string(env.date->value()) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size());
    if (conn == ConnHeader::Close) out += "\r\nConnection: close";
    if (conn == ConnHeader::KeepAlive) out += "\r\nConnection: keep-alive";
    out += "\r\n\r\n";
    if (req.method != Method::Head) out += body;
  }
};

void regex_step(const Request& req, ConnHeader conn, const Env& env, std::string& out, const std::regex& rx) {
  MapWriter w;
  Values form = parse_form(req);
  if (!std::regex_match(form_value(form, "color"), rx)) {
    w.error("Optional color is invalid", 400);
  } else {
    std::uint64_t n = env.visitors->take();
    w.header["Content-Type"] = "text/html; charset=utf-8";
    w.body = "<h1 style='color: " + form_value(form, "color") + "'>Welcome!</h1>You are visitor number " +
             std::to_string(n) + "!";
  }
  w.finish(req, conn, env, out);
}

// The first decoded value of key in an urlencoded string, as a std::string.
std::optional<std::string> first_value(std::string_view s, std::string_view key) {
  while (!s.empty()) {
    std::size_t amp = s.find('&');
    std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    std::size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (!hiserve::unescaped_equals(k, key, true)) continue;  // decode only the match
    if (std::optional<std::string> value = unescape(v)) return value;
  }
  return std::nullopt;
}

void append_head(std::string& out, int status, std::string_view content_type, bool nosniff,
                 std::size_t length, ConnHeader conn, const Env& env) {
  char num[20];
  out += "HTTP/1.1 ";
  out.append(num, std::to_chars(num, num + sizeof num, status).ptr);
  out += ' ';
  out += hiserve::reason_phrase(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  if (nosniff) out += "\r\nX-Content-Type-Options: nosniff";
  out += "\r\nDate: ";
  out += env.date->value();
  out += "\r\nContent-Length: ";
  out.append(num, std::to_chars(num, num + sizeof num, length).ptr);
  if (conn == ConnHeader::Close) out += "\r\nConnection: close";
  if (conn == ConnHeader::KeepAlive) out += "\r\nConnection: keep-alive";
  out += "\r\n\r\n";
}

}  // namespace

void step0(const Request& req, ConnHeader conn, const Env& env, std::string& out) {
  regex_step(req, conn, env, out, std::regex("^\\w*$"));
}

void step3(const Request& req, ConnHeader conn, const Env& env, std::string& out) {
  static const std::regex rx("^\\w*$");
  regex_step(req, conn, env, out, rx);
}

void step6(const Request& req, ConnHeader conn, const Env& env, std::string& out) {
  std::optional<std::string> color;
  if (!req.form_body.empty()) color = first_value(req.form_body, "color");
  if (!color) color = first_value(hiserve::parse_target(req.target, false).query, "color");
  const bool head_only = req.method == Method::Head;
  if (!color) color.emplace();
  const std::string& c = *color;
  bool valid = true;
  for (char ch : c) valid = valid && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_');
  if (!valid) {
    constexpr std::string_view kInvalid = "Optional color is invalid\n";
    append_head(out, 400, hiserve::kTextPlain, true, kInvalid.size(), conn, env);
    if (!head_only) out += kInvalid;
    return;
  }
  thread_local std::string body;  // the talk's sync.Pool of buffers
  body.clear();
  body += "<h1 style='color: ";
  body += c;
  body += "'>Welcome!</h1>You are visitor number ";
  char num[20];
  body.append(num, std::to_chars(num, num + sizeof num, env.visitors->take()).ptr);
  body += '!';
  append_head(out, 200, hiserve::kTextHtml, false, body.size(), conn, env);
  if (!head_only) out += body;
}

}  // namespace talk
