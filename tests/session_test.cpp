// The http layer, table-driven (llhttp's style): input bytes -> the statuses answered
// and whether the connection closes. Every case is also fed split at every byte
// offset and one byte at a time, from a buffer that is scribbled over after each
// feed, so a view kept into a dead read buffer shows up as wrong bytes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http_client.hpp"
#include "session_cases.hpp"
#include "hiserve/http/session.hpp"

using namespace hiserve;
using test::Case;
using test::cases;
using test::kLimits;

namespace {

struct Driver {
  BlockPool pool{kChunkSize};
  DateCache date;
  LeasedCounter visitors;
  LoopStats stats;
  SessionEnv env;
  Session session;
  OutBuf out{pool};
  std::string output;
  bool closed = false;

  explicit Driver(Limits limits) : env{limits, &pool, &visitors, &date, &stats}, session(env) {
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

std::string run_pieces(const std::vector<std::string_view>& pieces, bool* closed, bool quick_heads = true) {
  Driver d(kLimits);
  d.env.quick_heads = quick_heads;
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
    bool slow_closed = false;  // llhttp alone (no quick heads) writes the same bytes
    CHECK(run_pieces({c.input}, &slow_closed, false) == whole);
    CHECK(slow_closed == closed);
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
