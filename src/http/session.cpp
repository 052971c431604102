#include "hiserve/http/session.hpp"

#include <cstring>

#include "hiserve/response.hpp"
#include "hiserve/strings.hpp"

namespace hiserve {
namespace {

Method method_of(std::uint8_t m) {
  switch (m) {
    case HTTP_GET: return Method::Get;
    case HTTP_HEAD: return Method::Head;
    case HTTP_POST: return Method::Post;
    case HTTP_PUT: return Method::Put;
    case HTTP_PATCH: return Method::Patch;
    default: return Method::Other;
  }
}

// The status for a parse error llhttp found by itself.
int status_for(const llhttp_t& p, llhttp_errno_t err) {
  if (err == HPE_INVALID_TRANSFER_ENCODING) return 501;
  // "Invalid HTTP version" is a well-formed digit.digit that is not 0.9/1.x/2.0.
  if (err == HPE_INVALID_VERSION && p.reason && std::strcmp(p.reason, "Invalid HTTP version") == 0)
    return 505;
  return 400;
}

}  // namespace

// llhttp is C: each callback forwards to its Session member and nothing else.
struct SessionCallbacks {
  static Session& s(llhttp_t* p) noexcept { return *static_cast<Session*>(p->data); }
  static int message_begin(llhttp_t* p) noexcept { return s(p).on_message_begin(); }
  static int head_span(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_head_span(at, n); }
  static int version_complete(llhttp_t* p) noexcept { return s(p).on_version_complete(); }
  static int url(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_url(at, n); }
  static int header_field(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_header_field(at, n); }
  static int header_field_complete(llhttp_t* p) noexcept { return s(p).on_header_field_complete(); }
  static int header_value(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_header_value(at, n); }
  static int headers_complete(llhttp_t* p) noexcept { return s(p).on_headers_complete(); }
  static int body(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_body(at, n); }
  static int message_complete(llhttp_t* p) noexcept { return s(p).on_message_complete(); }

  static llhttp_settings_t make() noexcept {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = message_begin;
    st.on_method = head_span;
    st.on_url = url;
    st.on_version = head_span;
    st.on_version_complete = version_complete;
    st.on_header_field = header_field;
    st.on_header_field_complete = header_field_complete;
    st.on_header_value = header_value;
    st.on_headers_complete = headers_complete;
    st.on_body = body;
    st.on_message_complete = message_complete;
    return st;
  }
};

namespace {
const llhttp_settings_t kSettings = SessionCallbacks::make();
}

Session::Session(const SessionEnv& env) noexcept : env_(&env), arena_(*env.chunks) {
  llhttp_init(&parser_, HTTP_REQUEST, &kSettings);
  parser_.data = this;
}

int Session::fail(int status) noexcept {
  error_status_ = static_cast<std::uint16_t>(status);
  return -1;
}

// The head (request line and headers), and later the trailers, are each one run of
// consecutive bytes in the stream. section_start_ is the stream offset of the run's
// first byte, so the run's size up to any point is that point's offset minus
// section_start_: whitespace llhttp skips without a callback counts too, whichever
// feed it arrived in.
int Session::check_head_size(const char* upto) noexcept {
  const std::uint64_t pos = fed_ + static_cast<std::uint64_t>(upto - feed_start_);
  return pos - section_start_ > env_->limits.max_head_bytes ? fail(431) : 0;
}

int Session::on_head_span(const char* at, std::size_t n) noexcept {
  if (section_start_ == kNoSection) section_start_ = fed_ + static_cast<std::uint64_t>(at - feed_start_);
  return check_head_size(at + n);
}

void Session::drop_request_data() noexcept {
  arena_.reset();
  target_.clear(), content_type_.clear(), expect_.clear(), transfer_encoding_.clear();
  body_.clear();
}

int Session::on_message_begin() noexcept {
  drop_request_data();
  body_bytes_ = 0;
  section_start_ = kNoSection;
  name_len_ = 0;
  name_too_long_ = false;
  hosts_ = content_types_ = expects_ = transfer_encodings_ = 0;
  in_request_ = in_head_ = true;
  keep_body_ = false;
  return 0;
}

int Session::on_version_complete() noexcept {
  // llhttp accepts HTTP/2.0 and 0.9; hiserve speaks 1.0 and 1.1 only.
  if (parser_.http_major != 1 || parser_.http_minor > 1) return fail(505);
  return 0;
}

int Session::on_url(const char* at, std::size_t n) noexcept {
  if (int e = on_head_span(at, n)) return e;
  target_.append(arena_, at, n);
  return 0;
}

int Session::on_header_field(const char* at, std::size_t n) noexcept {
  if (int e = on_head_span(at, n)) return e;
  // llhttp lets "Host :" through: a smuggling vector, so names are checked here.
  for (std::size_t i = 0; i < n; ++i)
    if (!kTokenChar[static_cast<unsigned char>(at[i])]) return fail(400);
  if (name_len_ + n > sizeof name_) {
    name_too_long_ = true;
  } else {
    std::memcpy(name_ + name_len_, at, n);
    name_len_ = static_cast<std::uint8_t>(name_len_ + n);
  }
  return 0;
}

int Session::on_header_field_complete() noexcept {
  const std::string_view name{name_, name_len_};
  field_ = Field::Other;
  if (in_head_ && !name_too_long_) {  // trailers never count as these
    if (iequals(name, "host")) {
      field_ = Field::Host, ++hosts_;
    } else if (iequals(name, "content-type")) {
      field_ = Field::ContentType, ++content_types_;
    } else if (iequals(name, "expect")) {
      field_ = Field::Expect, ++expects_;
    } else if (iequals(name, "transfer-encoding")) {
      field_ = Field::TransferEncoding, ++transfer_encodings_;
    }
  }
  name_len_ = 0;
  name_too_long_ = false;
  return 0;
}

int Session::on_header_value(const char* at, std::size_t n) noexcept {
  if (int e = on_head_span(at, n)) return e;
  // Only the first of each header counts, as with Go's Header.Get.
  switch (field_) {
    case Field::ContentType:
      if (content_types_ == 1) content_type_.append(arena_, at, n);
      break;
    case Field::Expect:
      if (expects_ == 1) expect_.append(arena_, at, n);
      break;
    case Field::TransferEncoding:
      if (transfer_encodings_ == 1) transfer_encoding_.append(arena_, at, n);
      break;
    default: break;
  }
  return 0;
}

int Session::on_headers_complete() noexcept {
  in_head_ = false;
  section_start_ = kNoSection;  // the trailers, if any, are a section of their own
  if (hosts_ > 1 || (hosts_ == 0 && parser_.http_minor == 1)) return fail(400);
  if (parser_.flags & F_TRANSFER_ENCODING) {
    if (transfer_encodings_ > 1 || !iequals(trim_ows(transfer_encoding_.view()), "chunked")) return fail(501);
  }
  const bool has_body = (parser_.flags & F_CHUNKED) || parser_.content_length > 0;
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > env_->limits.max_body_bytes) return fail(413);
  if (expects_) {
    if (expects_ > 1 || !iequals(trim_ows(expect_.view()), "100-continue")) return fail(417);
    if (has_body) write_continue(*out_);
  }
  keep_body_ = has_body && reads_form_body(method_of(parser_.method), content_type_.view());
  return 0;
}

int Session::on_body(const char* at, std::size_t n) noexcept {
  body_bytes_ += n;
  if (body_bytes_ > env_->limits.max_body_bytes) return fail(413);
  if (keep_body_) body_.append(arena_, at, n);
  return 0;
}

int Session::on_message_complete() noexcept {
  in_request_ = false;
  const bool keep = llhttp_should_keep_alive(&parser_) && !parser_.upgrade && !close_requested_;
  const ConnHeader conn =
      !keep ? ConnHeader::Close : parser_.http_minor == 0 ? ConnHeader::KeepAlive : ConnHeader::None;
  Request req{method_of(parser_.method), target_.view(), keep_body_ ? body_.view() : std::string_view{}};
  serve(req, conn, {env_->visitors, env_->date, &arena_}, *out_);
  ++requests_;
  drop_request_data();
  if (!keep) {
    next_ = Next::Close;
    return HPE_PAUSED;
  }
  if (out_->should_flush()) {
    next_ = Next::Flush;
    return HPE_PAUSED;
  }
  return 0;
}

void Session::pin() noexcept {
  target_.pin(arena_), content_type_.pin(arena_), expect_.pin(arena_);
  transfer_encoding_.pin(arena_), body_.pin(arena_);
}

Session::Result Session::feed(const char* data, std::size_t len, OutBuf& out) noexcept {
  out_ = &out;
  feed_start_ = data;
  next_ = Next::Read;
  const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  const std::size_t stopped_at =
      err == HPE_OK ? len : static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
  switch (err) {
    case HPE_OK:
      if (in_request_ && section_start_ != kNoSection && check_head_size(data + len) != 0) break;
      if (in_request_) pin();
      fed_ += len;
      return {Next::Read, len};
    case HPE_PAUSED:
      llhttp_resume(&parser_);
      fed_ += stopped_at;
      return {next_, stopped_at};
    case HPE_PAUSED_UPGRADE:  // answered with Connection: close already
      return {Next::Close, stopped_at};
    default:
      if (!error_status_) error_status_ = static_cast<std::uint16_t>(status_for(parser_, err));
      break;
  }
  in_request_ = false;
  write_error(out, error_status_, *env_->date);
  drop_request_data();
  return {Next::Close, stopped_at};
}

}  // namespace hiserve
