#include "go_diff_grammar.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <strings.h>

namespace diff {
namespace {

struct Pick {
  std::mt19937& rng;
  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  template <typename T>
  const T& one(const std::vector<T>& v) {
    return v[below(v.size())];
  }
};

// Values of color, as they appear in a query or a urlencoded body.
const std::vector<std::string> kColors = {
    "red", "", "Blue_9", "%72ed", "r%65d", "a+b", "%3Cb%3E", "<b>", "%zz", "re%", "teal%20", "%00", "\xc3\xa9", "%C3%A9",
    "x'y", "0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "green;", "%2B",
};

std::string query(Pick& p) {
  switch (p.below(12)) {
    case 0: return "";
    case 1: return "?";
    case 2: return "?color=" + p.one(kColors) + "&color=red";
    case 3: return "?a=1&color=" + p.one(kColors);
    case 4: return "?color;x=1&color=teal";
    case 5: return "?col%6Fr=" + p.one(kColors);
    case 6: return "?color=red?x";
    case 7: return "?x=%zz&color=" + p.one(kColors);
    case 8: return "?color";
    case 9: return "?color=" + std::string(2100 + p.below(1000), 'a');  // Go chunks a body over 2 KiB
    default: return "?color=" + p.one(kColors);
  }
}

const std::vector<std::string> kPaths = {
    "/hi", "/hi", "/hi", "/hi/", "/h%69", "/%68%69", "//hi", "/./hi", "/x/../hi", "/hi//", "/hi/.", "/hi/..", "/HI",
    "/nope", "/", "/hi%2F", "/hi#frag", "/h\xc3\xa9", "/%2E%2E/hi", "/hi/../hi", "/.hi", "/a%20b/../%C3%A9/", "/hi%3F",
    "/x/./y//../hi", "/hi:x", "/$&+,;=@hi", "/hi!*'()", "/<a>\"",
};
const std::vector<std::string> kAbsolute = {
    "http://x/hi", "http://x", "HTTP://X:80/hi", "http://[::1]/hi", "http://u@x/hi", "https://x/./hi",
    "http:///hi", "http://x:/hi", "http://x%C3%A9/hi",
};

std::string multipart_body(Pick& p, const std::string& b) {
  const std::string nl = p.chance(10) ? "\n" : "\r\n";
  auto part = [&](const std::string& disposition, const std::string& data) {
    return "--" + b + nl + "Content-Disposition: " + disposition + "\r\n\r\n" + data + nl;
  };
  std::string body = p.chance(15) ? "preamble" + nl : "";
  const int parts = 1 + static_cast<int>(p.below(3));
  for (int i = 0; i < parts; ++i) {
    switch (p.below(7)) {
      case 0: body += part("form-data; name=color; filename=c.txt", "file"); break;
      case 1: body += part("form-data; name=other", "x"); break;
      case 2: body += part("attachment; name=color", "attached"); break;
      case 3: body += part("form-data; name=\"color\"", p.one(kColors)); break;
      default: body += part("form-data; name=color", p.chance(80) ? "teal" : "<b>"); break;
    }
  }
  switch (p.below(8)) {
    case 0: break;  // no closing boundary
    case 1: body += "--" + b + "--"; break;
    case 2: body += "--" + b + "--" + nl + "epilogue"; break;
    default: body += "--" + b + "--" + nl; break;
  }
  return body;
}

void add_body(Pick& p, Request& r) {
  std::string ct;
  switch (p.below(10)) {
    case 0:
    case 1:
    case 2: {
      const std::vector<std::string> types = {"application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded; charset=utf-8",
                                              "application/x-www-form-urlencoded; charset=a; charset=b",
                                              "application/x-www-form-urlencoded; @", "application/x-www-form-urlencoded;"};
      ct = p.one(types);
      const std::vector<std::string> forms = {"color=" + p.one(kColors), "a=1&color=" + p.one(kColors), "x=%zz&color=teal",
                                              "color=%zz", "", "color=blue&color=red"};
      r.body = p.one(forms);
      break;
    }
    case 3:
    case 4:
    case 5: {
      const std::vector<std::string> bounds = {"B", "XyZ0123", "a b", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "q\"t"};
      const std::string b = p.one(bounds);
      if (b == "q\"t") ct = "multipart/form-data; boundary=\"q\\\"t\"";
      else if (b.find(' ') != std::string::npos) ct = "multipart/form-data; boundary=\"" + b + "\"";
      else if (p.chance(15)) ct = "Multipart/Form-Data; charset=x; boundary*=utf-8''" + b;
      else ct = "multipart/form-data; boundary=" + b;
      if (p.chance(10)) ct = "multipart/form-data";  // no boundary: not a form
      if (p.chance(5)) ct += "; boundary=dup";
      r.body = multipart_body(p, b);
      break;
    }
    case 6: ct = "text/plain"; r.body = "color=blue"; break;
    case 7: r.body = "color=blue"; break;  // no Content-Type
    default: return;
  }
  if (!ct.empty()) r.headers.push_back("Content-Type: " + ct);
  r.framing = p.chance(80) ? Request::Framing::Length : Request::Framing::Chunked;
  if (r.framing == Request::Framing::Chunked) {
    r.te_value = p.one(std::vector<std::string>{"chunked", "chunked", "chunked", "Chunked", "CHUNKED"});
    for (std::size_t left = r.body.size(); left > 0;) {
      const std::size_t n = std::min(left, 1 + p.below(20));
      r.chunks.push_back(n);
      left -= n;
    }
  }
}

// One fault from docs/behaviour.md's bad-input table (or none).
void add_fault(Pick& p, Request& r) {
  switch (p.below(35)) {
    case 0: r.method = p.one(std::vector<std::string>{"FOO", "get", "GETX", "Post", "M_X"}); break;
    case 1: r.method = "G@T"; break;
    case 2: r.method = ""; break;
    case 3: r.version = p.one(std::vector<std::string>{"HTTP/1.2", "HTTP/1.9"}); break;
    case 4: r.version = p.one(std::vector<std::string>{"HTTP/2.0", "HTTP/0.9", "HTTP/3.1"}); break;
    case 5: r.version = p.one(std::vector<std::string>{"HTTP/1.10", "HTTP/1.1 ", "HTTP/1", "http/1.1"}); break;
    case 6: r.sp1 = "  "; break;
    case 7: r.sp2 = "  "; break;
    case 8: r.target += p.one(std::vector<std::string>{"\t", "\x0c", "%zz", "%4"}); break;
    case 9: r.line_end = "\n"; break;
    case 10: r.head_end = "\n"; break;
    case 11: r.headers.push_back("Host: second"); break;
    case 12:
      r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), [](auto& h) { return h.rfind("Host:", 0) == 0; }),
                      r.headers.end());
      break;
    case 13: r.headers.push_back(p.one(std::vector<std::string>{"Host: a b", "Host: a\tb", "Host: x/y", "Host: [::1]:80"})); break;
    case 14: r.headers.push_back("X-Thing : y"); break;
    case 15: r.headers.push_back("X@Y: z"); break;
    case 16: r.headers.push_back("X-Thing: a\x01z"); break;
    case 17: r.headers.push_back("NoColonHere"); break;
    case 18: r.headers.push_back("Expect: " + p.one(std::vector<std::string>{"tea", "100-continue, tea", "", "100-Continue"})); break;
    case 19: r.headers.push_back("Transfer-Encoding: " + p.one(std::vector<std::string>{"gzip", "chunked, chunked", "identity"})); break;
    case 20: r.headers.push_back("Connection: close"); break;
    case 21: r.headers.push_back("Connection: upgrade"); r.headers.push_back("Upgrade: websocket"); break;
    case 22: r.prefix = "\r\n"; break;
    case 23: r.target = "*"; break;
    case 24: r.method = "OPTIONS"; r.target = "*"; break;
    case 25: r.body.clear(), r.raw_body.clear(), r.framing = Request::Framing::None;  // CONNECT has no content
      r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), [](auto& h) { return h.rfind("Content-Type:", 0) == 0; }),
                      r.headers.end());
      r.method = "CONNECT"; r.target = p.one(std::vector<std::string>{"x:80", "/hi", "/./hi"}); break;
    case 26: r.target = p.one(std::vector<std::string>{"http://[::1/hi", "http://x:a/hi", "http://x%41/hi", "hi", "http://x{/hi"}); break;
    case 27: r.target = p.one(std::vector<std::string>{"http:/hi", "x:80", "mailto:x"}); break;
    case 28: r.method = "PRI"; break;
    case 29: r.headers.push_back("Content-Length: 0"); r.headers.push_back("Content-Length: 0"); break;
    case 30: r.headers.push_back("X-Fold: a"); r.headers.push_back(" folded"); break;
    case 31: r.headers.push_back("Content-Length:"); break;
    case 32: r.headers.push_back("Content-Length: 1"); r.headers.push_back("Content-Length: 2"); break;
    case 33: r.headers.push_back(p.one(std::vector<std::string>{": empty name", "X-Bad: a\x7f" "b", std::string("X-Nul: a\0b", 10)})); break;
    default: break;
  }
}

}  // namespace

std::string Request::wire() const {
  std::string w = prefix + method + sp1 + target + sp2 + version + line_end;
  for (const std::string& h : headers) w += h + "\r\n";
  const bool chunked = framing == Framing::Chunked;
  if (framing == Framing::Length) w += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (chunked) w += "Transfer-Encoding: " + te_value + "\r\n";
  w += head_end;
  if (!raw_body.empty()) return w + raw_body;
  if (!chunked) return w + body;
  std::size_t at = 0;
  char size[32];
  for (std::size_t n : chunks) {
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    w += size + body.substr(at, n) + "\r\n";
    at += n;
  }
  return w + "0\r\n\r\n";
}

std::string escape(const std::string& s) {
  std::string out;
  char hex[8];
  for (unsigned char c : s) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c >= 0x7f) std::snprintf(hex, sizeof hex, "\\x%02x", c), out += hex;
    else out += static_cast<char>(c);
  }
  return out;
}

std::string Request::show() const { return escape(wire()); }

bool Request::http10_keep_alive() const {
  if (version != "HTTP/1.0") return false;
  for (const std::string& h : headers) {
    if (h.rfind("Connection:", 0) != 0) continue;
    std::string v = h.substr(11);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v.find("keep-alive") != std::string::npos;
  }
  return false;
}

std::set<std::string> Request::tags() const {
  std::set<std::string> t;
  const bool token = !method.empty() && method.find_first_of("@ \t") == std::string::npos;
  static const std::set<std::string> known = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "PRI"};
  if (token && !known.count(method)) t.insert("unknown_method");
  if (method == "PRI" && !(target == "*" && version == "HTTP/2.0")) t.insert("pri_method");
  if (version.size() == 8 && version.rfind("HTTP/1.", 0) == 0 && version[7] >= '2' && version[7] <= '9') t.insert("version_1x");
  if (line_end == "\n" || head_end == "\n") t.insert("bare_lf");
  int lengths = framing == Framing::Length ? 1 : 0, te = framing == Framing::Chunked ? 1 : 0;
  std::set<std::string> length_values;
  if (framing == Framing::Length) length_values.insert(std::to_string(body.size()));
  bool upgrade = false, empty_length = false;
  for (const std::string& h : headers) {
    if (h.rfind("Content-Length:", 0) == 0) {
      ++lengths;
      std::string v = h.substr(15);
      v.erase(0, v.find_first_not_of(' '));
      length_values.insert(v);
      empty_length = empty_length || v.empty();
    }
    if (h.rfind("Transfer-Encoding:", 0) == 0) te += strcasecmp(h.c_str(), "Transfer-Encoding: chunked") == 0 ? 1 : 100;
    upgrade = upgrade || h.rfind("Upgrade:", 0) == 0;
  }
  if (lengths > 0 && te == 1) t.insert("cl_and_te");  // an unsupported coding is a 501 first
  if (lengths > 1 && length_values.size() == 1) t.insert("dup_cl_same");
  if (empty_length) t.insert("empty_cl");
  if (te > 0 && version == "HTTP/1.0") t.insert("http10_te");
  if (upgrade) t.insert("upgrade");
  if (method == "CONNECT") t.insert("connect");
  const std::size_t colon = target.find(':');
  if (method != "CONNECT" && target[0] != '/' && colon != std::string::npos && target.compare(colon, 3, "://") != 0) t.insert("scheme_no_slashes");
  if (raw_body.rfind("zz", 0) == 0) t.insert("bad_chunk");
  if (version == "HTTP/1.0" && target.size() > 2000) t.insert("http10_long");
  return t;
}

Request generate(std::mt19937& rng) {
  Pick p{rng};
  Request r;
  const std::vector<std::string> methods = {"GET", "GET", "GET", "GET", "HEAD", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  r.method = p.one(methods);
  r.target = (p.chance(85) ? p.one(kPaths) : p.one(kAbsolute)) + query(p);
  if (p.chance(12)) {
    r.version = "HTTP/1.0";
    if (p.chance(50)) r.headers.push_back(p.one(std::vector<std::string>{"Connection: keep-alive", "Connection: x, Keep-Alive",
                                                                          "Connection: close"}));
  } else {
    r.headers.push_back(p.one(std::vector<std::string>{"Host: x", "Host: 127.0.0.1:8080", "Host: [::1]:8080", "Host:", "host: X",
                                                        "Host:  x  ", "Host: x_y~z!$&'()*+,;=%"}));
    if (p.chance(10)) r.headers.push_back(p.one(std::vector<std::string>{"Connection: Close", "Connection: keep-alive, close",
                                                                          "Connection: foo", "Connection: keep-alive"}));
  }
  if (p.chance(20))
    r.headers.push_back(p.one(std::vector<std::string>{"User-Agent: diff/1", "Accept: */*", "X-Empty:", "X-Obs: \xff\xfe",
                                                       "X-Trailing: v \t", "X_Under: y", "X-Tab:\tv"}));
  if (p.chance(45)) add_body(p, r);
  if (p.chance(10) && !r.body.empty() && r.version == "HTTP/1.1") r.headers.push_back("Expect: 100-continue");
  if (p.chance(30)) add_fault(p, r);
  // Faults that need a body's framing.
  if (r.framing == Request::Framing::Length && p.chance(3)) {
    r.headers.push_back("Transfer-Encoding: chunked");
    r.raw_body = "0\r\n\r\n";
  }
  if (r.framing == Request::Framing::Chunked && p.chance(4)) {
    r.raw_body = "zz\r\n" + r.body + "\r\n0\r\n\r\n";
  }
  if (r.framing == Request::Framing::Chunked && p.chance(5)) {
    r.body.clear();  // an empty chunked body with a trailer
    r.raw_body = "0\r\nX-Trailer: t\r\n\r\n";
  }
  return r;
}

}  // namespace diff
