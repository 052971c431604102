#include "hiserve/session.hpp"

#include <cstring>

#include "hiserve/form.hpp"
#include "hiserve/response.hpp"

namespace hiserve {
namespace {

// RFC 9110 tchar: what a header name may hold. llhttp lets "Host :" through; a
// smuggling vector, so names are checked here.
constexpr bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

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

struct SessionCallbacks {
  static Session& s(llhttp_t* p) noexcept { return *static_cast<Session*>(p->data); }

  static int message_begin(llhttp_t* p) noexcept {
    s(p).begin_message();
    return 0;
  }
  static int method(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return s(p).count_head(at, n);
  }
  static int version(llhttp_t* p, const char* at, std::size_t n) noexcept {
    return s(p).count_head(at, n);
  }
  static int version_complete(llhttp_t* p) noexcept {
    // llhttp accepts HTTP/2.0 and 0.9; hiserve speaks 1.0 and 1.1 only.
    if (p->http_major != 1 || p->http_minor > 1) return s(p).fail(505);
    return 0;
  }
  static int url(llhttp_t* p, const char* at, std::size_t n) noexcept {
    Session& ss = s(p);
    if (int e = ss.count_head(at, n)) return e;
    ss.target_.append(ss.arena_, at, n);
    return 0;
  }
  static int header_field(llhttp_t* p, const char* at, std::size_t n) noexcept {
    Session& ss = s(p);
    if (int e = ss.count_head(at, n)) return e;
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_tchar(static_cast<unsigned char>(at[i]))) return ss.fail(400);
      if (ss.field_len_ < sizeof ss.field_) ss.field_[ss.field_len_] = at[i];
      if (ss.field_len_ <= sizeof ss.field_) ++ss.field_len_;
    }
    return 0;
  }
  static int header_field_complete(llhttp_t* p) noexcept {
    Session& ss = s(p);
    std::string_view name{ss.field_, ss.field_len_ > sizeof ss.field_ ? 0u : ss.field_len_};
    ss.field_kind_ = Session::Field::Other;
    if (ss.in_head_) {  // trailers never count as these
      if (iequals(name, "host")) {
        ss.field_kind_ = Session::Field::Host, ++ss.hosts_;
      } else if (iequals(name, "content-type")) {
        ss.field_kind_ = Session::Field::ContentType, ++ss.content_types_;
      } else if (iequals(name, "expect")) {
        ss.field_kind_ = Session::Field::Expect, ++ss.expects_;
      } else if (iequals(name, "transfer-encoding")) {
        ss.field_kind_ = Session::Field::TransferEncoding, ++ss.transfer_encodings_;
      }
    }
    ss.field_len_ = 0;
    return 0;
  }
  static int header_value(llhttp_t* p, const char* at, std::size_t n) noexcept {
    Session& ss = s(p);
    if (int e = ss.count_head(at, n)) return e;
    // Only the first of each header counts, as with Go's Header.Get.
    switch (ss.field_kind_) {
      case Session::Field::ContentType:
        if (ss.content_types_ == 1) ss.content_type_.append(ss.arena_, at, n);
        break;
      case Session::Field::Expect:
        if (ss.expects_ == 1) ss.expect_.append(ss.arena_, at, n);
        break;
      case Session::Field::TransferEncoding:
        if (ss.transfer_encodings_ == 1) ss.transfer_encoding_.append(ss.arena_, at, n);
        break;
      default: break;
    }
    return 0;
  }
  static int headers_complete(llhttp_t* p) noexcept { return s(p).headers_complete(); }
  static int body(llhttp_t* p, const char* at, std::size_t n) noexcept {
    Session& ss = s(p);
    ss.body_bytes_ += n;
    if (ss.body_bytes_ > ss.env_->limits.max_body_bytes) return ss.fail(413);
    if (ss.keep_body_) ss.body_.append(ss.arena_, at, n);
    return 0;
  }
  static int message_complete(llhttp_t* p) noexcept { return s(p).message_complete(); }

  static llhttp_settings_t make() noexcept {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = message_begin;
    st.on_method = method;
    st.on_url = url;
    st.on_version = version;
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

int Session::count_head(const char* at, std::size_t n) noexcept {
  if (!in_head_) {  // trailers: their byte count is all that matters
    head_bytes_ += static_cast<std::uint32_t>(n) + 4;
    return head_bytes_ > env_->limits.max_head_bytes ? fail(431) : 0;
  }
  if (!head_started_) head_started_ = true, head_origin_ = at;
  std::size_t total = head_bytes_ + static_cast<std::size_t>(at + n - head_origin());
  return total > env_->limits.max_head_bytes ? fail(431) : 0;
}

void Session::drop_request_data() noexcept {
  arena_.reset();
  target_.clear(), content_type_.clear(), expect_.clear(), transfer_encoding_.clear();
  body_.clear();
}

void Session::begin_message() noexcept {
  drop_request_data();
  body_bytes_ = 0;
  head_bytes_ = 0;
  head_origin_ = nullptr;
  field_len_ = 0;
  hosts_ = content_types_ = expects_ = transfer_encodings_ = 0;
  in_request_ = in_head_ = true;
  head_started_ = keep_body_ = false;
}

int Session::headers_complete() noexcept {
  in_head_ = false;
  head_bytes_ = 0;  // from here on it counts trailer bytes
  if (hosts_ > 1 || (hosts_ == 0 && parser_.http_minor == 1)) return fail(400);
  if (parser_.flags & F_TRANSFER_ENCODING) {
    if (transfer_encodings_ > 1 || !iequals(trim_ows(transfer_encoding_.view()), "chunked"))
      return fail(501);
  }
  const bool has_body = (parser_.flags & F_CHUNKED) || parser_.content_length > 0;
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > env_->limits.max_body_bytes)
    return fail(413);
  if (expects_) {
    if (expects_ > 1 || !iequals(trim_ows(expect_.view()), "100-continue")) return fail(417);
    if (has_body) write_continue(*out_);
  }
  keep_body_ = has_body && reads_form_body(method_of(parser_.method), content_type_.view());
  return 0;
}

int Session::message_complete() noexcept {
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
  buf_start_ = data;
  buf_end_ = data + len;
  next_ = Next::Read;
  const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  const std::size_t stopped_at =
      err == HPE_OK ? len : static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
  switch (err) {
    case HPE_OK:
      if (in_head()) {
        // Bytes llhttp swallowed without a callback (whitespace) count too.
        if (head_started_) head_bytes_ += static_cast<std::uint32_t>(buf_end_ - head_origin());
        head_origin_ = nullptr;
        if (head_bytes_ > env_->limits.max_head_bytes) {
          fail(431);
          break;
        }
      }
      if (in_request_) pin();
      return {Next::Read, len};
    case HPE_PAUSED:
      llhttp_resume(&parser_);
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
