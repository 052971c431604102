#include "hiserve/multipart.hpp"

#include <cstring>

#include "hiserve/media_type.hpp"
#include "hiserve/strings.hpp"

namespace hiserve {
namespace {
constexpr std::uint32_t kLineBuffer = 4096;  // Go's bufio buffer for lines between parts
constexpr std::uint32_t kMaxParts = 1000;
constexpr std::uint32_t kMaxHeaders = 10000;
constexpr std::string_view kDisposition = "content-disposition";
}  // namespace

MultipartForm::MultipartForm(std::string_view boundary, std::string_view key, Arena& arena) : key_(key) {
  char* b = arena.alloc_chars(boundary.size() + 4);
  std::memcpy(b, "\r\n--", 4);
  if (!boundary.empty()) std::memcpy(b + 4, boundary.data(), boundary.size());
  dash_ = {b + 2, boundary.size() + 2};
  if (boundary.empty()) state_ = State::Failed;  // Go: "multipart: boundary is empty"
}

void MultipartForm::feed(const char* p, std::size_t n, Arena& arena) {
  std::size_t i = 0;
  while (i < n) {
    switch (state_) {
      case State::Line: line_byte(p[i++]); break;
      case State::Headers: header_byte(p + i++, arena); break;
      case State::Data: i += data_bytes(p + i, n - i, arena); break;
      case State::Done:
      case State::Failed: return;
    }
  }
}

void MultipartForm::pin(Arena& arena) {
  cd_.pin(arena);
  value_.pin(arena);
}

void MultipartForm::finish() noexcept {
  switch (state_) {
    case State::Line:  // only a closing boundary may end the body unterminated
      state_ = boundary_line_ == BoundaryLine::FinalWs ? State::Done : State::Failed;
      break;
    case State::Headers:
      // Go's textproto hands NextPart a bare io.EOF when the body ends in a part's
      // headers, and ReadForm takes that as the end of the form: fine, unless a
      // line without its colon was left (a lone "\r" is such a line).
      state_ = hline_ == HLine::Key || hline_ == HLine::StartCR ? State::Failed : State::Done;
      break;
    case State::Data: state_ = State::Failed; break;
    default: break;
  }
}

FormValue MultipartForm::value() const noexcept {
  if (state_ != State::Done || !found_) return {};
  return {true, value_.view()};
}

// --- lines between parts (Go's NextPart: ReadSlice('\n') and the boundary tests) ---

void MultipartForm::line_byte(char c) {
  if (c == '\n') return end_line();
  if (++line_len_ >= kLineBuffer) {  // bufio.ErrBufferFull
    state_ = State::Failed;
    return;
  }
  if (line_len_ == 1) line_first_cr_ = c == '\r';
  const bool ws = c == ' ' || c == '\t';
  switch (boundary_line_) {
    case BoundaryLine::Prefix:
      if (c != dash_[prefix_]) boundary_line_ = BoundaryLine::Other;
      else if (++prefix_ == dash_.size()) boundary_line_ = BoundaryLine::AfterB;
      break;
    case BoundaryLine::AfterB: boundary_line_ = c == '-' ? BoundaryLine::Dash : ws ? BoundaryLine::DelimWs : c == '\r' ? BoundaryLine::DelimCR : BoundaryLine::Other; break;
    case BoundaryLine::Dash: boundary_line_ = c == '-' ? BoundaryLine::FinalWs : BoundaryLine::Other; break;
    case BoundaryLine::FinalWs: boundary_line_ = ws ? BoundaryLine::FinalWs : c == '\r' ? BoundaryLine::FinalCR : BoundaryLine::Other; break;
    case BoundaryLine::DelimWs: boundary_line_ = ws ? BoundaryLine::DelimWs : c == '\r' ? BoundaryLine::DelimCR : BoundaryLine::Other; break;
    case BoundaryLine::FinalCR:
    case BoundaryLine::DelimCR:
    case BoundaryLine::Other: boundary_line_ = BoundaryLine::Other; break;
  }
}

void MultipartForm::end_line() {
  bool delimiter = false, final = false;
  switch (boundary_line_) {
    case BoundaryLine::AfterB:
    case BoundaryLine::DelimWs:  // the rest is "\n": Go switches to "\n" line ends on the first one
      if (parts_ == 0) lf_only_ = true;
      delimiter = lf_only_;
      break;
    case BoundaryLine::DelimCR: delimiter = !lf_only_; break;
    case BoundaryLine::FinalWs: final = lf_only_; break;
    case BoundaryLine::FinalCR: final = !lf_only_; break;
    default: break;
  }
  const bool blank = lf_only_ ? line_len_ == 0 : line_len_ == 1 && line_first_cr_;
  boundary_line_ = BoundaryLine::Prefix, prefix_ = 0, line_len_ = 0, line_first_cr_ = false;
  if (delimiter) {
    if (++parts_ > kMaxParts) {
      state_ = State::Failed;
      return;
    }
    expect_new_part_ = false;
    state_ = State::Headers;
    hline_ = HLine::Start, first_header_ = true, headers_ = 0;
    capturing_cd_ = have_cd_ = false;
    cd_.clear();
  } else if (final) {
    state_ = State::Done;
  } else if (expect_new_part_ || (parts_ > 0 && !blank)) {
    state_ = State::Failed;
  } else if (parts_ > 0) {
    expect_new_part_ = true;  // the blank line between a part and its boundary
  }  // else: the preamble
}

// --- part headers (Go's textproto.ReadMIMEHeader) ---

void MultipartForm::header_byte(const char* at, Arena& arena) {
  const char c = *at;
  switch (hline_) {
    case HLine::Start:
      if (c == '\n') return begin_data(arena);
      if (c == '\r') {
        hline_ = HLine::StartCR;
        return;
      }
      if (c == ' ' || c == '\t') {
        if (first_header_) {  // "malformed MIME header initial line"
          state_ = State::Failed;
          return;
        }
        // A folded line: joined to the header before it with one space.
        hline_ = HLine::Continuation, skip_ws_ = true;
        if (capturing_cd_ && !cd_.empty()) cd_.append_copy(arena, " ", 1);
        piece_start_ = cd_.size();
        return;
      }
      break;
    case HLine::StartCR:
      if (c == '\n') return begin_data(arena);
      break;
    default: break;
  }
  if (hline_ == HLine::Start || hline_ == HLine::StartCR) {
    // A new header: the one before it, and its capture, end here.
    first_header_ = false;
    capturing_cd_ = false;
    key_len_ = hline_ == HLine::StartCR ? 1 : 0;  // a leading '\r' is part of the key
    key_token_ = key_len_ == 0;
    hline_ = HLine::Key;
  }
  switch (hline_) {
    case HLine::Key:
      if (c == '\n') {  // "malformed MIME header: missing colon"
        state_ = State::Failed;
        return;
      }
      if (c != ':') {
        // key_token_: every byte so far matches "content-disposition" (case folded).
        key_token_ = key_token_ && key_len_ < kDisposition.size() &&
                     (c >= 'A' && c <= 'Z' ? c + 32 : c) == kDisposition[key_len_];
        ++key_len_;
        return;
      }
      if (key_len_ > 0 && ++headers_ > kMaxHeaders) {  // an empty key is skipped, not counted
        state_ = State::Failed;
        return;
      }
      capturing_cd_ = !have_cd_ && key_token_ && key_len_ == kDisposition.size();
      have_cd_ = have_cd_ || capturing_cd_;
      hline_ = HLine::Value, skip_ws_ = true;
      piece_start_ = cd_.size();
      return;
    case HLine::Value:
    case HLine::Continuation:
      if (c == '\n') return end_header_line();
      if (skip_ws_ && (c == ' ' || c == '\t')) return;
      skip_ws_ = false;
      if (capturing_cd_) cd_.append(arena, at, 1);
      return;
    default: return;
  }
}

void MultipartForm::end_header_line() {
  // ReadLine drops a "\r\n"; trim() then drops trailing spaces and tabs.
  if (capturing_cd_) {
    std::size_t n = cd_.size();
    const std::string_view v = cd_.view();
    if (n > piece_start_ && v[n - 1] == '\r') --n;
    while (n > piece_start_ && (v[n - 1] == ' ' || v[n - 1] == '\t')) --n;
    cd_.truncate(n);
  }
  hline_ = HLine::Start;
}

void MultipartForm::begin_data(Arena& arena) {
  capturing_ = false;
  if (have_cd_ && !found_) {
    // Go's FormName and FileName: a "form-data" disposition named key, no filename.
    const MediaType d = parse_media_type(cd_.view(), "name", arena);
    if (d.parse == MediaType::Parse::Ok && iequals(d.type, "form-data") && d.has_param && d.param == key_) {
      const MediaType f = parse_media_type(cd_.view(), "filename", arena);
      capturing_ = !f.has_param || f.param.empty();
    }
  }
  if (!border_) {
    // The line ending is settled by now: build the delimiter and its KMP table.
    const std::size_t nl = lf_only_ ? 1 : 2;
    delim_ = {dash_.data() - nl, dash_.size() + nl};
    border_ = static_cast<std::uint32_t*>(arena.alloc(delim_.size() * sizeof(std::uint32_t)));
    border_[0] = 0;
    for (std::size_t i = 1; i < delim_.size(); ++i) {
      std::uint32_t k = border_[i - 1];
      while (k > 0 && delim_[i] != delim_[k]) k = border_[k - 1];
      border_[i] = k + (delim_[i] == delim_[k]);
    }
  }
  state_ = State::Data;
  at_start_ = true;
  matched_ = 0;
  after_full_ = after_dash_ = false;
}

// --- part data (Go's partReader and scanUntilBoundary) ---

void MultipartForm::keep(const char* at, std::size_t n, Arena& arena) {
  if (capturing_) value_.append(arena, at, n);
}

void MultipartForm::keep_copy(const char* at, std::size_t n, Arena& arena) {
  if (capturing_) value_.append_copy(arena, at, n);
}

bool MultipartForm::delim_byte(const char* at, bool copy, Arena& arena) {
  const char c = *at;
  while (matched_ > 0 && c != delim_[matched_]) {
    const std::uint32_t b = border_[matched_ - 1];
    keep_copy(delim_.data(), matched_ - b, arena);  // what fell out of the match is data
    matched_ = b;
  }
  if (c == delim_[matched_]) return ++matched_ == delim_.size();
  copy ? keep_copy(at, 1, arena) : keep(at, 1, arena);
  return false;
}

void MultipartForm::boundary_found(bool after_newline) {
  if (capturing_) found_ = true, capturing_ = false;
  // Go's NextPart reads the delimiter's line end as a blank line, then "--boundary...".
  expect_new_part_ = after_newline;
  state_ = State::Line;
  boundary_line_ = BoundaryLine::AfterB;
  prefix_ = static_cast<std::uint32_t>(dash_.size());
  line_len_ = prefix_;
  line_first_cr_ = false;
  if (line_len_ >= kLineBuffer) state_ = State::Failed;
}

std::size_t MultipartForm::data_bytes(const char* p, std::size_t n, Arena& arena) {
  for (std::size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (after_full_) {
      // A delimiter (or, first thing in the part, "--boundary") matched: it is a
      // boundary if a space, tab, CR, LF or "--" follows.
      const std::string_view matched = at_start_ ? dash_ : delim_;
      if (!after_dash_ && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
        after_full_ = false;
        boundary_found(!at_start_);
        line_byte(c);
        return i + 1;
      }
      if (!after_dash_ && c == '-') {
        after_dash_ = true;
        continue;
      }
      if (after_dash_ && c == '-') {
        after_full_ = after_dash_ = false;
        boundary_found(!at_start_);
        line_byte('-');
        line_byte('-');
        return i + 1;
      }
      // Not a boundary: the match is data, and the search starts again after it.
      keep_copy(matched.data(), matched.size(), arena);
      if (after_dash_) keep_copy("-", 1, arena);
      after_full_ = after_dash_ = false;
      at_start_ = false;
      matched_ = 0;
    }
    if (at_start_) {
      if (c == dash_[matched_]) {
        if (++matched_ == dash_.size()) after_full_ = true;
        continue;
      }
      // Not "--boundary": those bytes are searched for the delimiter like any others.
      const std::uint32_t k = matched_;
      at_start_ = false;
      matched_ = 0;
      for (std::uint32_t j = 0; j < k; ++j) delim_byte(dash_.data() + j, true, arena);
    }
    if (delim_byte(p + i, false, arena)) after_full_ = true;
  }
  return n;
}

}  // namespace hiserve
