// The bench's talk steps must answer exactly as the real handler does, or BenchmarkHi
// would compare different work.
#include <doctest/doctest.h>

#include <string>

#include "hiserve/handler.hpp"
#include "talk_steps.hpp"

using namespace hiserve;

namespace {

struct Final {
  BlockPool pool{16384};
  Arena arena{pool};
  OutBuf out{pool};
  std::string run(const Request& req, ConnHeader conn, VisitorCounter& visitors, const DateCache& date) {
    serve_hi(req, conn, {&visitors, &date, &arena}, out);
    OutBuf::Span spans[8];
    int n = out.spans(spans, 8);
    std::string s;
    for (int i = 0; i < n; ++i) s.append(spans[i].base, spans[i].len);
    out.reset();
    arena.reset();
    return s;
  }
};

}  // namespace

TEST_CASE("talk steps 0, 3 and 6 write the final handler's bytes") {
  DateCache date;
  date.refresh(784111777);
  const Request requests[] = {
      {Method::Get, "/hi", {}},
      {Method::Get, "/hi?color=red", {}},
      {Method::Get, "/hi?color=", {}},
      {Method::Get, "/hi?a=1&color=Blue_9&color=red", {}},
      {Method::Get, "/hi?color=%72ed", {}},
      {Method::Get, "/hi?color=%3Cscript%3E", {}},
      {Method::Get, "/hi?color=a+b", {}},
      {Method::Get, "/hi?color=%zz&color=green", {}},
      {Method::Get, "/hi?color;=x&color=teal", {}},
      {Method::Head, "/hi?color=red", {}},
      {Method::Head, "/hi?color=%00", {}},
      {Method::Post, "/hi?color=red", "color=blue"},
      {Method::Post, "/hi?color=red", "other=1"},
      {Method::Put, "/hi", "color=bad!"},
  };
  for (ConnHeader conn : {ConnHeader::None, ConnHeader::KeepAlive, ConnHeader::Close}) {
    VisitorCounter v_final, v0, v3, v6;
    Final final;
    for (const Request& req : requests) {
      CAPTURE(req.target);
      CAPTURE(req.form_body);
      const std::string want = final.run(req, conn, v_final, date);
      REQUIRE(want.rfind("HTTP/1.1 ", 0) == 0);
      for (auto [step, visitors] : {std::pair{&talk::step0, &v0}, std::pair{&talk::step3, &v3}, std::pair{&talk::step6, &v6}}) {
        std::string got = "stale bytes the step must append after";
        const std::size_t before = got.size();
        step(req, conn, {visitors, &date}, got);
        CHECK(got.substr(before) == want);
      }
    }
    CHECK(v0.served == v_final.served);
    CHECK(v6.served == v_final.served);
  }
}
