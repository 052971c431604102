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
  VisitorCounter visitors;
  SessionEnv env;
  Session session;
  OutBuf out{pool};
  std::string output;
  bool closed = false;

  explicit Driver(Limits limits) : env{limits, &pool, &visitors, &date}, session(env) { date.refresh(784111777); }

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
  const char* name;
  std::string input;
  const char* statuses;
  bool closes;
  const char* contains = "";
};

const Limits kLimits{1024, 4096};

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
      {"leading CRLF", "\r\n" + get, "200", false},
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
      {"Expect 100-continue", "POST /hi HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", "100,200",
       false},
      {"Expect 100-continue, no body", "GET /hi HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", "200", false},
      {"Expect other", "POST /hi HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 3\r\n\r\nabc", "417", true},
      {"no Host", "GET /hi HTTP/1.1\r\n\r\n", "400", true, "Connection: close"},
      {"two Hosts", "GET /hi HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400", true},
      {"space before colon", "GET /hi HTTP/1.1\r\nHost : x\r\n\r\n", "400", true},
      {"not HTTP", "hello there\r\n\r\n", "400", true, "400 Bad Request"},
      {"bad method", "G@T /hi HTTP/1.1\r\nHost: x\r\n\r\n", "400", true},
      {"bare LF header", "GET /hi HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", "400", true},
      {"HTTP/1.2", "GET /hi HTTP/1.2\r\nHost: x\r\n\r\n", "505", true},
      {"HTTP/2.0", "GET /hi HTTP/2.0\r\nHost: x\r\n\r\n", "505", true},
      {"HTTP/0.9", "GET /hi HTTP/0.9\r\n\r\n", "505", true},
      {"HTTP/3.0", "GET /hi HTTP/3.0\r\nHost: x\r\n\r\n", "505", true},
      {"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "505", true},
      {"CL and TE", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400",
       true},
      {"two Content-Lengths", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400", true},
      {"bad Content-Length", "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc", "400", true},
      {"unknown TE", "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501", true},
      {"gzip, chunked", "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501", true},
      {"bad chunk size", "POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400", true},
      {"head over limit", "GET /hi HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100, 'a') + "\r\n\r\n", "431", true},
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
