// The bench's talk steps must answer exactly as the real handler does, or BenchmarkHi
// would compare different work.
#include <doctest/doctest.h>

#include <string>

#include "recorder.hpp"
#include "talk_steps.hpp"

using namespace hiserve;

TEST_CASE("talk steps 0, 3 and 6 write the final handler's bytes") {
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
    test::Recorder final;  // the real handler, through the router
    LeasedCounter v0, v3, v6;
    for (LeasedCounter* v : {&v0, &v3, &v6}) v->install(1, kEveryNumber);
    const DateCache& date = final.date;
    for (const Request& req : requests) {
      CAPTURE(req.target);
      CAPTURE(req.form_body);
      const std::string want = final.run(req, conn);
      REQUIRE(want.rfind("HTTP/1.1 ", 0) == 0);
      for (auto [step, visitors] : {std::pair{&talk::step0, &v0}, std::pair{&talk::step3, &v3}, std::pair{&talk::step6, &v6}}) {
        std::string got = "stale bytes the step must append after";
        const std::size_t before = got.size();
        step(req, conn, {visitors, &date}, got);
        CHECK(got.substr(before) == want);
      }
    }
    CHECK(v0.tickets() == final.visitors.tickets());
    CHECK(v3.tickets() == final.visitors.tickets());
    CHECK(v6.tickets() == final.visitors.tickets());
  }
}
