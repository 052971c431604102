// The differential test's request grammar: seeded, structured requests over methods,
// path spellings, absolute targets, color encodings, urlencoded, multipart and text
// bodies, Content-Length and chunked framing, HTTP/1.0 and 1.1, and one fault at a
// time from docs/behaviour.md's bad-input table. tags() names what a request exercises, read off
// its final form (so a minimized request is tagged afresh); the test looks
// deliberate divergences up by tag.
#pragma once
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace diff {

struct Request {
  std::string prefix;  // bytes before the request line (empty lines)
  std::string method = "GET";
  std::string sp1 = " ";
  std::string target = "/hi";
  std::string sp2 = " ";
  std::string version = "HTTP/1.1";
  std::string line_end = "\r\n";  // after the request line
  std::vector<std::string> headers;  // whole lines, without their line end
  std::string head_end = "\r\n";  // the blank line
  std::string body;
  enum class Framing { None, Length, Chunked } framing = Framing::None;
  std::vector<std::size_t> chunks;  // chunk sizes, for Chunked
  std::string te_value = "chunked";  // its Transfer-Encoding, in some spelling
  std::string raw_body;  // replaces the framed body when set (malformed framing)

  bool head() const { return method == "HEAD"; }
  // HTTP/1.0 whose first Connection header names keep-alive.
  bool http10_keep_alive() const;
  // The bytes on the wire.
  std::string wire() const;
  // A readable one-line form for reports.
  std::string show() const;
  // What the request exercises that docs/behaviour.md treats apart from Go.
  std::set<std::string> tags() const;
};

// Request number i of the run seeded with seed.
Request generate(std::mt19937& rng);

// C-style escapes for bytes a report cannot print.
std::string escape(const std::string& s);

}  // namespace diff
