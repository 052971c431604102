// The talk's httptest.NewRecorder test: a Request in, exact bytes out, no socket.
#include <doctest/doctest.h>

#include <string>

#include "recorder.hpp"

using namespace hiserve;

namespace {
using test::Recorder;
constexpr const char* kDate = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
}  // namespace

TEST_CASE("GET /hi?color=red: 200, html, the visitor number, counting from 1") {
  Recorder r;
  std::string want = std::string("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n") + kDate +
                     "Content-Length: 61\r\n\r\n<h1 style='color: red'>Welcome!</h1>You are visitor number 1!";
  CHECK(r.run({Method::Get, "/hi?color=red", {}}) == want);
  CHECK(r.run({Method::Get, "/hi?color=red", {}}).find("visitor number 2!") != std::string::npos);
}

TEST_CASE("no color, empty color: valid") {
  Recorder r;
  CHECK(r.run({Method::Get, "/hi", {}}).find("\r\n\r\n<h1 style='color: '>Welcome!</h1>You are visitor number 1!") !=
        std::string::npos);
  CHECK(r.run({Method::Get, "/hi?color=", {}}).find("number 2!") != std::string::npos);
}

TEST_CASE("invalid color: 400, text/plain, nosniff, no number used") {
  Recorder r;
  std::string want = std::string("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n") +
                     "X-Content-Type-Options: nosniff\r\n" + kDate +
                     "Content-Length: 26\r\n\r\nOptional color is invalid\n";
  for (const char* t : {"/hi?color=re+d", "/hi?color=%3Cscript%3E", "/hi?color=red%0A", "/hi?color=r%C3%A9"}) {
    CAPTURE(t);
    CHECK(r.run({Method::Get, t, {}}) == want);
  }
  CHECK(r.visitors.tickets() == 0);
  CHECK(r.run({Method::Get, "/hi?color=ok", {}}).find("number 1!") != std::string::npos);
}

TEST_CASE("urlencoded body pairs come before the query's") {
  Recorder r;
  CHECK(r.run({Method::Post, "/hi?color=red", "color=blue"}).find("color: blue'") != std::string::npos);
  CHECK(r.run({Method::Post, "/hi?color=red", "other=1"}).find("color: red'") != std::string::npos);
  CHECK(r.run({Method::Put, "/hi", "color=bad+value"}).rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("HEAD: same headers, no body; still takes a number") {
  Recorder r;
  std::string head = r.run({Method::Head, "/hi?color=red", {}});
  CHECK(head.find("Content-Length: 61\r\n\r\n") == head.size() - 22);
  CHECK(r.visitors.tickets() == 1);
}

TEST_CASE("other paths: 404 page not found") {
  Recorder r;
  std::string want = std::string("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n") +
                     "X-Content-Type-Options: nosniff\r\n" + kDate + "Content-Length: 19\r\n\r\n404 page not found\n";
  for (const char* t : {"/", "/hi/", "/hii", "/h", "/HI", "/hi%2F", "/hi#x"}) {
    CAPTURE(t);
    CHECK(r.run({Method::Get, t, {}}) == want);
  }
  CHECK(r.run({Method::Get, "/h%69?color=x", {}}).rfind("HTTP/1.1 200", 0) == 0);  // Go decodes the path
  CHECK(r.run({Method::Get, "http://host/hi", {}}).rfind("HTTP/1.1 200", 0) == 0);  // absolute-form
}

TEST_CASE("Connection header follows the caller's keep-alive decision") {
  Recorder r;
  CHECK(r.run({Method::Get, "/x", {}}, ConnHeader::Close).find("\r\nConnection: close\r\n\r\n") != std::string::npos);
  CHECK(r.run({Method::Get, "/x", {}}, ConnHeader::KeepAlive).find("\r\nConnection: keep-alive\r\n\r\n") !=
        std::string::npos);
  CHECK(r.run({Method::Get, "/x", {}}).find("Connection") == std::string::npos);
}

TEST_CASE("a long valid color is echoed whole") {
  Recorder r;
  std::string color(20000, 'a');
  std::string resp = r.run({Method::Get, "/hi?color=" + color, {}});
  CHECK(resp.find("color: " + color + "'") != std::string::npos);
}

TEST_CASE("unclean paths: 301 to ServeMux's cleanPath, as Go's Redirect writes it") {
  // Locations and bodies as Go 1.19 (httptest + ServeMux) printed them.
  struct Case {
    Method method;
    const char* target;
    const char* location;
    const char* body;  // GET only; HEAD gets the Content-Type, no body
  };
  const Case cases[] = {
      {Method::Get, "//hi?color=red", "/hi?color=red", "<a href=\"/hi?color=red\">Moved Permanently</a>.\n\n"},
      {Method::Get, "http://x", "/", "<a href=\"/\">Moved Permanently</a>.\n\n"},
      {Method::Get, "/hi/.", "/hi", "<a href=\"/hi\">Moved Permanently</a>.\n\n"},
      {Method::Get, "/%2E%2E/hi", "/hi", "<a href=\"/hi\">Moved Permanently</a>.\n\n"},
      {Method::Get, "/a%20b/../%C3%A9/?q=%C3%A9&x=\xc3\xa9&y=<'\">", "/%C3%A9/?q=%C3%A9&x=%c3%a9&y=<'\">",
       "<a href=\"/%C3%A9/?q=%C3%A9&amp;x=\xc3\xa9&amp;y=&lt;&#39;&#34;&gt;\">Moved Permanently</a>.\n\n"},
  };
  Recorder r;
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const std::string body = c.body;
    const std::string want = std::string("HTTP/1.1 301 Moved Permanently\r\nContent-Type: text/html; charset=utf-8\r\n") +
                             "Location: " + c.location + "\r\n" + kDate + "Content-Length: " + std::to_string(body.size()) +
                             "\r\n\r\n" + body;
    CHECK(r.run({c.method, c.target, {}}) == want);
    const std::string head = r.run({Method::Head, c.target, {}});
    CHECK(head == want.substr(0, want.size() - body.size()));
  }
  // Other methods: no Content-Type, no body.
  CHECK(r.run({Method::Post, "/x/../hi", {}}) ==
        std::string("HTTP/1.1 301 Moved Permanently\r\nLocation: /hi\r\n") + kDate + "Content-Length: 0\r\n\r\n");
  CHECK(r.visitors.tickets() == 0);
  CHECK(r.run({Method::Get, "/hi?", {}}).rfind("HTTP/1.1 200", 0) == 0);  // an empty query is clean
}

TEST_CASE("\"*\": OPTIONS gets 200 with Content-Length 0, anything else 400 and close") {
  Recorder r;
  CHECK(r.run({Method::Options, "*", {}}) == std::string("HTTP/1.1 200 OK\r\n") + kDate + "Content-Length: 0\r\n\r\n");
  CHECK(r.run({Method::Get, "*", {}}) ==
        std::string("HTTP/1.1 400 Bad Request\r\n") + kDate + "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST_CASE("multipart values come after the query's, a urlencoded body's before") {
  Recorder r;
  Request req{Method::Post, "/hi?color=red", {}, {true, "teal"}};
  CHECK(r.run(req).find("color: red'") != std::string::npos);
  req.target = "/hi";
  CHECK(r.run(req).find("color: teal'") != std::string::npos);
  req.multipart = {true, "<b>"};
  CHECK(r.run(req).rfind("HTTP/1.1 400", 0) == 0);
}
