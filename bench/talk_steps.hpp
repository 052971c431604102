// The talk's handler steps, retraced in C++ for the bench only. Each writes a complete
// response (status line, headers, body) for the /hi handler into `out`, byte for byte
// what hiserve::serve_hi writes, so BenchmarkHi compares like with like:
//   step0: std::regex built per request, the form parsed into a std::map, headers in a
//          std::map, std::string concatenation, std::to_string (the talk's first code);
//   step3: the regex compiled once;
//   step6: no regex, one pass for the first "color" value, a reused body buffer,
//          std::to_chars (the talk's last step).
// The talk's step0 counter was a racy `visitors++`; in C++ that race is undefined
// behaviour, so every step takes its number from hiserve's counter.
#pragma once
#include <string>

#include "hiserve/handler.hpp"

namespace talk {

struct Env {
  hiserve::LeasedCounter* visitors;
  const hiserve::DateCache* date;
};

void step0(const hiserve::Request& req, hiserve::ConnHeader conn, const Env& env, std::string& out);
void step3(const hiserve::Request& req, hiserve::ConnHeader conn, const Env& env, std::string& out);
void step6(const hiserve::Request& req, hiserve::ConnHeader conn, const Env& env, std::string& out);

}  // namespace talk
