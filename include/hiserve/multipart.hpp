// A streaming reader of multipart/form-data bodies that keeps what Go's
// r.FormValue(key) takes from one (Go 1.19's mime/multipart, Reader.ReadForm): the
// first value part (Content-Disposition "form-data" with that name and no filename)
// of a body that parses up to its closing boundary. Bytes go in as they arrive, split
// anywhere; only that value and the Content-Disposition being read are kept.
//
// Go's rules kept here: lines between parts of 4,096 bytes or more are an error (its
// bufio buffer); "\n" line ends when the first boundary line has one; the preamble is
// skipped and nothing after the closing boundary is looked at; more than 1,000 parts,
// or 10,000 headers in one part, are an error; header lines fold. Not kept: a
// quoted-printable part is not decoded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hiserve/arena.hpp"
#include "hiserve/form.hpp"

namespace hiserve {

class MultipartForm {
 public:
  // Copies boundary into the arena; key must outlive the reader.
  MultipartForm(std::string_view boundary, std::string_view key, Arena& arena);

  // The next bytes of the body.
  void feed(const char* p, std::size_t n, Arena& arena);
  // Copies what the reader keeps out of the bytes fed so far (they are about to go).
  void pin(Arena& arena);
  // The body is complete.
  void finish() noexcept;
  // After finish(): whether Go's ReadForm succeeds on this body.
  bool ok() const noexcept { return state_ == State::Done; }
  // After finish(): the first value named key (found is false when !ok()).
  FormValue value() const noexcept;

 private:
  enum class State : std::uint8_t { Line, Headers, Data, Done, Failed };
  // A line between parts, against "--boundary".
  enum class BoundaryLine : std::uint8_t {
    Prefix,   // matching "--boundary"
    Other,    // not a boundary line
    AfterB,   // "--boundary" matched
    Dash,     // "--boundary-"
    FinalWs,  // "--boundary--", then spaces or tabs
    FinalCR,  // ... then '\r'
    DelimWs,  // "--boundary", then spaces or tabs
    DelimCR,  // ... then '\r'
  };

  void line_byte(char c);
  void end_line();
  void header_byte(const char* at, Arena& arena);
  void end_header_line();
  void begin_data(Arena& arena);
  // Takes part data up to a boundary; returns how many bytes it took.
  std::size_t data_bytes(const char* p, std::size_t n, Arena& arena);
  // One byte through the delimiter search (copy: at is not stream memory); true
  // when the delimiter is complete.
  bool delim_byte(const char* at, bool copy, Arena& arena);
  void keep(const char* at, std::size_t n, Arena& arena);
  void keep_copy(const char* at, std::size_t n, Arena& arena);
  // A boundary ended the part: the line it starts is read as a line between parts.
  void boundary_found(bool after_newline);

  std::string_view key_;
  std::string_view dash_;     // "--boundary" (in the arena, right after "\r\n")
  std::string_view delim_;    // "\r\n--boundary" or "\n--boundary", from the first part on
  std::uint32_t* border_ = nullptr;  // KMP border lengths of delim_
  State state_ = State::Line;
  bool lf_only_ = false;
  bool expect_new_part_ = false;
  std::uint32_t parts_ = 0;
  // A line between parts.
  BoundaryLine boundary_line_ = BoundaryLine::Prefix;
  std::uint32_t line_len_ = 0;
  std::uint32_t prefix_ = 0;
  bool line_first_cr_ = false;
  // Part headers, one physical line at a time.
  enum class HLine : std::uint8_t { Start, StartCR, Key, Value, Continuation };
  HLine hline_ = HLine::Start;
  bool first_header_ = true;
  bool skip_ws_ = false;
  bool key_token_ = true;  // the key so far spells the start of Content-Disposition
  bool capturing_cd_ = false;
  bool have_cd_ = false;
  std::uint32_t key_len_ = 0;
  std::uint32_t headers_ = 0;
  std::size_t piece_start_ = 0;  // where this line's piece of the captured value began
  ArenaText cd_;
  // Part data.
  bool at_start_ = true;   // no byte of this part's data yet: "--boundary" alone ends it
  std::uint32_t matched_ = 0;
  bool after_full_ = false;  // a delimiter matched: what follows decides
  bool after_dash_ = false;
  bool capturing_ = false;
  bool found_ = false;
  ArenaText value_;
};

}  // namespace hiserve
