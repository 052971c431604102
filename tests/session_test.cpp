// The http layer, table-driven (llhttp's style): input bytes -> the statuses answered
// and whether the connection closes. Every case is also fed split at every byte
// offset and one byte at a time, from a buffer that is scribbled over after each
// feed, so a view kept into a dead read buffer shows up as wrong bytes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http_client.hpp"
#include "hiserve/http/session.hpp"

using namespace hiserve;

namespace {

struct Driver {
  BlockPool pool{kChunkSize};
  DateCache date;
  LeasedCounter visitors;
  SessionEnv env;
  Session session;
  OutBuf out{pool};
  std::string output;
  bool closed = false;

  explicit Driver(Limits limits) : env{limits, &pool, &visitors, &date}, session(env) {
    date.refresh(784111777);
    visitors.install(1, kEveryNumber);
  }

  void feed(std::string_view bytes) {
    std::string scratch(bytes);
    const char* p = scratch.data();
    std::size_t len = scratch.size();
    while (len > 0 && !closed) {
      Session::Result r = session.feed(p, len, out);
      OutBuf::Span spans[64];
      int n = out.spans(spans, 64);
      for (int i = 0; i < n; ++i) output.append(spans[i].base, spans[i].len);
      out.reset();
      REQUIRE(r.consumed <= len);
      p += r.consumed;
      len -= r.consumed;
      if (r.next == Session::Next::Close) closed = true;
      if (r.next == Session::Next::Read) REQUIRE(len == 0);
    }
    scratch.assign(scratch.size(), '#');  // the read buffer gets reused
  }
};

std::string statuses(const std::string& output) {
  std::string s;
  for (const test::Response& r : test::parse_all(output)) s += (s.empty() ? "" : ",") + std::to_string(r.status);
  return s;
}

struct Case {
  std::string name;
  std::string input;
  std::string statuses;
  bool closes;
  std::string contains = "";
};

const Limits kLimits{1024, 4096};

// head (no blank line yet) + Content-Length + body.
std::string sized(const std::string& head, const std::string& body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::vector<Case> cases() {
  const std::string get = "GET /hi?color=red HTTP/1.1\r\nHost: x\r\n\r\n";
  return {
      {"GET /hi", get, "200", false, "color: red'>Welcome!</h1>You are visitor number 1!"},
      {"HTTP/1.0 closes", "GET /hi HTTP/1.0\r\n\r\n", "200", true, "Connection: close\r\n"},
      {"HTTP/1.0 keep-alive", "GET /hi HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "200", false,
       "Connection: keep-alive\r\n"},
      {"1.1 Connection: close", "GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", true,
       "Connection: close\r\n"},
      {"pipelined, in order", get + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /hi?color=%20 HTTP/1.1\r\nHost: x\r\n\r\n" + get,
       "200,404,400,200", false, "visitor number 2!"},
      // Go skips up to 4 CR/LF bytes before a request only after a POST.
      {"leading CRLF", "\r\n" + get, "400", true},
      {"CRLF after a POST", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na\r\n\r\n" + get, "200,200", false},
      {"CRLF after a GET", get + "\r\n" + get, "200,400", true},
      {"6 CR/LF bytes after a POST", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na\r\n\r\n\r\n" + get, "200,400",
       true},
      {"POST form, body first",
       "POST /hi?color=red HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\ncolor=blue",
       "200", false, "color: blue'"},
      {"POST non-form body ignored",
       "POST /hi?color=red HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\ncolor=blue",
       "200", false, "color: red'"},
      {"POST chunked form",
       "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\ncol\r\n7;ext=1\r\nor=gree\r\n1\r\nn\r\n0\r\nTrailer: t\r\n\r\n",
       "200", false, "color: green'"},
      {"POST form, invalid", "PATCH /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\ncolor=a%20b",
       "400", false, "Optional color is invalid\n"},
      // Go sends 100 only when the handler reads the body; otherwise it answers and closes.
      {"Expect 100-continue, form", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
       "Expect: 100-continue\r\nContent-Length: 10\r\n\r\ncolor=blue", "100,200", false, "color: blue'"},
      {"Expect 100-continue, not a form", "POST /hi HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
       "200", true, "Connection: close\r\n"},
      {"Expect 100-continue, GET with a body", "GET /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
       "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", "200", true},
      {"Expect 100-continue, 404", "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
       "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", "404", true},
      {"Expect 100-continue, multipart", "PUT /hi HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
       "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n--B\r\n0\r\n\r\n", "100,200", false},
      {"Expect as a token of a list", "POST /hi HTTP/1.1\r\nHost: x\r\nExpect: x, 100-Continue\r\nContent-Length: 1\r\n\r\na",
       "200", true},
      {"empty Expect is ignored", "GET /hi HTTP/1.1\r\nHost: x\r\nExpect: \r\n\r\n", "200", false},
      {"only the first Expect counts", "GET /hi HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nExpect: tea\r\n\r\n", "200",
       false},
      {"HTTP/1.0: no 100", "POST /hi HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
       "Expect: 100-continue\r\nContent-Length: 10\r\n\r\ncolor=blue", "200", true, "color: blue'"},
      {"OPTIONS * reads its body", "OPTIONS * HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
       "100,200", false},
      {"Expect 100-continue, no body", "GET /hi HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", "200", false},
      {"Expect other", "POST /hi HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 3\r\n\r\nabc", "417", true,
       "HTTP/1.1 417 Expectation Failed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
      {"no Host", "GET /hi HTTP/1.1\r\n\r\n", "400", true,
       "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
       "Content-Length: 45\r\nConnection: close\r\n\r\n400 Bad Request: missing required Host header"},
      {"no Host, CONNECT", "CONNECT x:80 HTTP/1.1\r\n\r\n", "404", true},
      {"empty Host", "GET /hi HTTP/1.1\r\nHost:\r\n\r\n", "200", false},
      {"two Hosts", "GET /hi HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400", true, "\r\n\r\n400 Bad Request"},
      {"Host with a space", "GET /hi HTTP/1.1\r\nHost: a b\r\n\r\n", "400", true, "400 Bad Request: malformed Host header"},
      {"Host with a tab", "GET /hi HTTP/1.1\r\nHost: a\tb\r\n\r\n", "400", true, "malformed Host header"},
      {"Host: [::1]:80", "GET /hi HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "200", false},
      {"space before colon, the only Host", "GET /hi HTTP/1.1\r\nHost : x\r\n\r\n", "400", true, "missing required Host header"},
      {"space before colon", "GET /hi HTTP/1.1\r\nHost: x\r\nX : y\r\n\r\n", "400", true, ": invalid header name"},
      {"bad byte in a header value", "GET /hi HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", "400", true, ": invalid header value"},
      {"bad byte in a header name", "GET /hi HTTP/1.1\r\nHost: x\r\nX@Y: a\r\n\r\n", "400", true, ": invalid header name"},
      {"header line without colon", "GET /hi HTTP/1.1\r\nHost: x\r\nXY\r\n\r\n", "400", true, "\r\n\r\n400 Bad Request"},
      {"not HTTP", "hello there\r\n\r\n", "400", true, "400 Bad Request"},
      {"bad method", "G@T /hi HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"unknown method", "FOO /hi HTTP/1.1\r\nHost: x\r\n\r\n", "501", true,
       "Content-Length: 19\r\nConnection: close\r\n\r\n501 Not Implemented"},
      {"lower-case method", "get /hi HTTP/1.1\r\nHost: x\r\n\r\n", "501", true},
      {"known method's prefix", "GETX /hi HTTP/1.1\r\nHost: x\r\n\r\n", "501", true},
      {"partial known method", "GE /hi HTTP/1.1\r\nHost: x\r\n\r\n", "501", true},
      {"unknown method, bad target", "FOO /hi%zz HTTP/1.1\r\n\r\n", "400", true},
      {"unknown method, bad version", "FOO /hi HTTP/1.10\r\n\r\n", "400", true},
      {"unknown method, no version", "FOO /hi\r\n\r\n", "400", true},
      {"unknown method, two spaces", "FOO  /hi HTTP/1.1\r\n\r\n", "400", true},
      {"unknown method, bare LF", "FOO /hi HTTP/1.1\n\r\n", "400", true},
      {"no method", " /hi HTTP/1.1\r\n\r\n", "400", true},
      {"PRI, which llhttp takes only for the h2 preface", "PRI /hi HTTP/1.1\r\nHost: x\r\n\r\n", "501", true},
      {"PRI over HTTP/1.0", "PRI /hi HTTP/1.0\r\n\r\n", "501", true},
      {"bare LF header", "GET /hi HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", "400", true},
      {"bare LF after the request line", "GET /hi HTTP/1.1\nHost: x\r\n\r\n", "400", true},
      {"bare LF ends the head", "GET /hi HTTP/1.1\r\nHost: x\r\n\n", "400", true},
      {"bare LF, no headers", "GET /hi HTTP/1.0\n\n", "400", true},
      {"two spaces after the method", "GET  /hi HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"two spaces before the version", "GET /hi  HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"tab in the target", "GET /hi?color=\t HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"form feed in the target", "GET /hi\x0c HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"bad escape in the path", "GET /hi%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"bad escape in the query is fine", "GET /hi?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n", "200", false},
      {"bad port in an absolute target", "GET http://x:a/hi HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"decoded path", "GET /h%69?color=red HTTP/1.1\r\nHost: x\r\n\r\n", "200", false},
      {"unclean path", "GET /./hi?color=red HTTP/1.1\r\nHost: x\r\n\r\n", "301", false, "Location: /hi?color=red\r\n"},
      {"double slash", "GET //hi HTTP/1.1\r\nHost: x\r\n\r\n", "301", false, "Location: /hi\r\n"},
      {"dot-dot", "GET /x/../hi HTTP/1.1\r\nHost: x\r\n\r\n", "301", false, "Location: /hi\r\n"},
      {"trailing double slash", "GET /hi// HTTP/1.1\r\nHost: x\r\n\r\n", "301", false, "Location: /hi/\r\n"},
      {"absolute target, no path", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", "301", false, "Location: /\r\n"},
      {"CONNECT paths are not cleaned", "CONNECT /./hi HTTP/1.1\r\nHost: x\r\n\r\n", "404", true},
      {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "200", false, "Content-Length: 0\r\n\r\n"},
      {"GET *", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", "400", true, "Content-Length: 0\r\nConnection: close\r\n\r\n"},
      {"multipart body", sized("POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n",
                                "--XyZ\r\nContent-Disposition: form-data; name=\"color\"\r\n\r\nteal\r\n--XyZ--\r\n"),
       "200", false, "color: teal'"},
      {"multipart, any method", sized("GET /hi HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n",
                                       "--B\r\nContent-Disposition: form-data; name=color\r\n\r\n<b>\r\n--B--\r\n"),
       "400", false, "Optional color is invalid"},
      {"multipart after the query", sized("PUT /hi?color=red HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n",
                                           "--B\r\nContent-Disposition: form-data; name=color\r\n\r\nteal\r\n--B--\r\n"),
       "200", false, "color: red'"},
      {"malformed multipart: the query only",
       sized("POST /hi?color=red HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n",
             "--B\r\nContent-Disposition: form-data; name=color\r\n\r\n<b>\r\n--B"),
       "200", false, "color: red'"},
      {"multipart without the query", sized("POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n",
                                             "--B\r\nContent-Disposition: form-data; name=color\r\n\r\n<b>\r\n--B"),
       "200", false, "color: '"},
      {"repeated Content-Type parameter: no form", "POST /hi?color=red HTTP/1.1\r\nHost: x\r\n"
       "Content-Type: application/x-www-form-urlencoded; charset=a; charset=b\r\nContent-Length: 10\r\n\r\ncolor=blue", "200", false,
       "color: red'"},
      {"bad Content-Type parameter: still a form", "POST /hi?color=red HTTP/1.1\r\nHost: x\r\n"
       "Content-Type: application/x-www-form-urlencoded; @\r\nContent-Length: 10\r\n\r\ncolor=blue", "200", false, "color: blue'"},
      {"HTTP/1.0 with Transfer-Encoding", "POST /hi HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400", true},
      {"HTTP/1.0 keep-alive: first Connection header only", "GET /hi HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n\r\n",
       "200", true},
      {"HTTP/1.0 keep-alive as a token", "GET /hi HTTP/1.0\r\nConnection: x, Keep-Alive\r\n\r\n", "200", false},
      {"HTTP/1.2", "GET /hi HTTP/1.2\r\nHost: x\r\n\r\n", "505", true,
       "\r\n\r\n505 HTTP Version Not Supported: unsupported protocol version"},
      {"HTTP/2.0", "GET /hi HTTP/2.0\r\nHost: x\r\n\r\n", "505", true},
      {"HTTP/0.9", "GET /hi HTTP/0.9\r\n\r\n", "505", true},
      {"HTTP/3.0", "GET /hi HTTP/3.0\r\nHost: x\r\n\r\n", "505", true},
      {"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "505", true},
      {"CL and TE", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400",
       true},
      {"two Content-Lengths", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400", true},
      {"bad Content-Length", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc", "400", true},
      {"unknown TE", "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501", true,
       "\r\n\r\nUnsupported transfer encoding"},
      {"gzip, chunked", "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501", true},
      {"bad chunk size", "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400", true},
      {"head over limit", "GET /hi HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100, 'a') + "\r\n\r\n", "431", true,
       "\r\n\r\n431 Request Header Fields Too Large"},
      {"URL over limit", "GET /hi?color=" + std::string(1100, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", "431", true},
      {"head just under limit", "GET /hi HTTP/1.1\r\nHost: x\r\nX: " + std::string(960, 'a') + "\r\n\r\n", "200", false},
      {"whitespace counts toward the head", "GET /hi HTTP/1.1\r\nHost: x\r\nX:" + std::string(1100, ' ') + "a\r\n\r\n", "431",
       true},
      {"body over limit (Content-Length)", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n", "413", true},
      {"body over limit (chunked)",
       "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + std::string(2048, 'a') + "\r\n800\r\n" +
           std::string(2048, 'a') + "\r\n1\r\na\r\n0\r\n\r\n",
       "413", true},
      {"100-continue but too big", "POST /hi HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n", "413",
       true},
      {"Upgrade is answered, then closed", "GET /hi HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", "200",
       true},
      {"answer, then garbage", get + "garbage\r\n\r\n", "200,400", true},
      {"nothing after close", "GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get, "200", true},
  };
}

std::string run_pieces(const std::vector<std::string_view>& pieces, bool* closed) {
  Driver d(kLimits);
  for (std::string_view p : pieces) d.feed(p);
  *closed = d.closed;
  return d.output;
}

}  // namespace

TEST_CASE("request table: whole, split at every offset, one byte at a time") {
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    bool closed = false;
    const std::string whole = run_pieces({c.input}, &closed);
    CHECK(statuses(whole) == c.statuses);
    CHECK(closed == c.closes);
    CHECK(whole.find(c.contains) != std::string::npos);
    for (std::size_t i = 1; i < c.input.size(); ++i) {
      std::string_view in = c.input;
      bool split_closed = false;
      std::string out = run_pieces({in.substr(0, i), in.substr(i)}, &split_closed);
      if (out != whole || split_closed != closed) {
        CAPTURE(i);
        CHECK(out == whole);
        CHECK(split_closed == closed);
        break;
      }
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < c.input.size(); ++i) bytes.push_back(std::string_view(c.input).substr(i, 1));
    bool byte_closed = false;
    CHECK(run_pieces(bytes, &byte_closed) == whole);
    CHECK(byte_closed == closed);
  }
}

TEST_CASE("HEAD answers headers only") {
  Driver d(kLimits);
  d.feed("HEAD /hi?color=red HTTP/1.1\r\nHost: x\r\n\r\nHEAD /x HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = d.output;
  auto a = test::take_response(out, true);
  auto b = test::take_response(out, true);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->status == 200);
  CHECK(a->header("content-length") == "61");
  CHECK(b->status == 404);
  CHECK(out.empty());
}

TEST_CASE("deep pipelines pause for a flush and lose nothing") {
  Driver d(kLimits);
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n";
  d.feed(many);
  auto rs = test::parse_all(d.output);
  REQUIRE(rs.size() == 1000);
  CHECK(rs.back().body.find("number 1000!") != std::string::npos);
  CHECK_FALSE(d.closed);
}

TEST_CASE("a partial request holds memory; a finished one gives it back") {
  Driver d(kLimits);
  d.feed("GET /hi?color=re");
  CHECK(d.session.in_head());
  CHECK_FALSE(d.session.holds_nothing());
  d.feed("d HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(d.session.in_request());
  CHECK(d.session.holds_nothing());
  CHECK(d.output.find("color: red'") != std::string::npos);
}
