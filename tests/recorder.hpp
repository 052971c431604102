// The talk's httptest.NewRecorder: a Request through the router, the exact bytes of
// the response out, no socket. The Date is pinned to RFC 9110's example.
#pragma once
#include <string>

#include "hiserve/handler.hpp"

namespace test {

struct Recorder {
  hiserve::BlockPool pool{hiserve::kChunkSize};
  hiserve::Arena arena{pool};
  hiserve::OutBuf out{pool};
  hiserve::DateCache date;
  hiserve::LeasedCounter visitors;
  Recorder() {
    date.refresh(784111777);
    visitors.install(1, hiserve::kEveryNumber);
  }
  std::string run(hiserve::Request req, hiserve::ConnHeader conn = hiserve::ConnHeader::None) {
    serve(req, conn, {&visitors, &date, &arena, nullptr}, out);
    hiserve::OutBuf::Span spans[8];
    int n = out.spans(spans, 8);
    std::string s;
    for (int i = 0; i < n; ++i) s.append(spans[i].base, spans[i].len);
    out.reset();
    arena.reset();
    return s;
  }
};

}  // namespace test
