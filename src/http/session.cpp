#include "hiserve/http/session.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>

#include "hiserve/response.hpp"
#include "hiserve/strings.hpp"
#include "hiserve/uri.hpp"
#include "quick_head.hpp"

namespace hiserve {
namespace {

// OPTIONS * reads at most this much body; more closes the connection (Go's
// globalOptionsHandler behind a MaxBytesReader).
constexpr std::uint64_t kDrainLimit = 4096;

Method method_of(std::uint8_t m) {
  switch (m) {
    case HTTP_GET: return Method::Get;
    case HTTP_HEAD: return Method::Head;
    case HTTP_POST: return Method::Post;
    case HTTP_PUT: return Method::Put;
    case HTTP_PATCH: return Method::Patch;
    case HTTP_OPTIONS: return Method::Options;
    case HTTP_CONNECT: return Method::Connect;
    default: return Method::Other;
  }
}

// Go's hasToken: token is a whole word of v, words split by ' ', ',' or '\t', ASCII
// case folded.
bool has_token(std::string_view v, std::string_view token) noexcept {
  auto boundary = [](char c) { return c == ' ' || c == ',' || c == '\t'; };
  for (std::size_t at = 0; at + token.size() <= v.size(); ++at) {
    if ((at > 0 && !boundary(v[at - 1])) || (at + token.size() < v.size() && !boundary(v[at + token.size()]))) continue;
    if (iequals(v.substr(at, token.size()), token)) return true;
  }
  return false;
}

// Go's ParseHTTPVersion: "HTTP/" digit "." digit.
bool valid_http_version(std::string_view v) noexcept {
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' &&
         v[7] <= '9';
}

// httpguts.ValidHostHeader.
bool valid_host_header(std::string_view h) noexcept {
  for (char c : h)
    if (!kHostHeaderChar[static_cast<unsigned char>(c)]) return false;
  return true;
}

}  // namespace

// llhttp is C: each callback forwards to its Session member and nothing else.
struct SessionCallbacks {
  static Session& s(llhttp_t* p) noexcept { return *static_cast<Session*>(p->data); }
  static int message_begin(llhttp_t* p) noexcept { return s(p).on_message_begin(); }
  static int method(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_method(at, n); }
  static int url(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_url(at, n); }
  static int url_complete(llhttp_t* p) noexcept { return s(p).on_url_complete(); }
  static int version(llhttp_t* p, const char* at, std::size_t n) noexcept { return s(p).on_version(at, n); }
  static int version_complete(llhttp_t* p) noexcept { return s(p).on_version_complete(); }
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
    st.on_method = method;
    st.on_url = url;
    st.on_url_complete = url_complete;
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
  // The keep-alive decision is ours (Go's rules); llhttp must not shut itself after a
  // message it would not keep open (HTTP/1.0 with "Connection: keep-alive x") while we do.
  llhttp_set_lenient_keep_alive(&parser_, 1);
  parser_.data = this;
}

void Session::restart(const StreamMemo& memo, const PeerAddress* peer) noexcept {
  peer_ = peer;
  // Offsets restart here: the stream so far is the saturated distance from the last
  // message's end, which is all the empty-line rule asks of it. llhttp is between
  // messages (idle()); reset, nothing of another stream's parser can reach this one.
  llhttp_reset(&parser_);
  memo_ = memo;
  fed_ = memo.since_end;
  body_end_ = 0;
}

StreamMemo Session::memo() const noexcept {
  StreamMemo m = memo_;
  const std::uint64_t since =
      memo_.ended == MessageEnd::Body ? fed_ - body_end_ : memo_.ended == MessageEnd::Nothing ? fed_ : 0;
  m.since_end = static_cast<std::uint8_t>(std::min<std::uint64_t>(since, 255));
  return m;
}

int Session::fail(ProtocolError e) noexcept {
  if (phase_ != Phase::Failed) phase_ = Phase::Failed, error_ = e;
  return -1;
}

// The head (request line and headers), and later the trailers, are each one run of
// consecutive bytes in the stream. section_start_ is the stream offset of the run's
// first byte, so the run's size up to any point is that point's offset minus
// section_start_: whitespace llhttp skips without a callback counts too, whichever
// feed it arrived in.
int Session::check_head_size(const char* upto) noexcept {
  return offset(upto) - section_start_ > env_->limits.max_head_bytes ? fail(ProtocolError::HeadTooLarge) : 0;
}

unsigned Session::crlf_run_before(const char* p) const noexcept {
  // The common case first: a head's "\r\n\r\n" right before p, and no more.
  const char* five = p - feed_start_ >= 5                             ? p - 5
                     : p == feed_start_ && memo_.recent_len >= 5 ? memo_.recent + memo_.recent_len - 5
                                                                 : nullptr;
  if (five && std::memcmp(five + 1, "\r\n\r\n", 4) == 0 && five[0] != '\r' && five[0] != '\n') return 4;
  // The k-th byte before p, from this feed or the tail of the ones before (0: none).
  auto before = [&](long k) -> char {
    if (p - feed_start_ >= k) return p[-k];
    const long t = memo_.recent_len - (k - (p - feed_start_));
    return t >= 0 ? memo_.recent[t] : 0;
  };
  unsigned n = 0;
  while (n < 10 && (before(n + 1) == '\r' || before(n + 1) == '\n')) ++n;
  return n;
}

std::uint64_t Session::next_bare_lf(const char* p) const noexcept {
  while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(feed_end_ - p))))) {
    const char prev = p > feed_start_ ? p[-1] : memo_.recent_len ? memo_.recent[memo_.recent_len - 1] : 0;
    if (prev != '\r') return offset(p);
    ++p;
  }
  return kNone;
}

int Session::head_span(Span kind, const char* at, std::size_t n) noexcept {
  // llhttp reports an empty header value after the line end that follows it: such a
  // span says nothing about the bytes around it.
  if (n == 0) return 0;
  const std::uint64_t start = offset(at);
  if (kind != span_) {  // a new span, not a piece of the last one
    if (section_start_ == kNone) {  // a request's (or its trailers') first byte
      if (phase_ == Phase::Head && !may_start_request(at)) return fail(ProtocolError::BadRequest);
      section_start_ = start;
    } else if ((span_ == Span::Method && start != span_end_ + 1) || (span_ == Span::Url && start != span_end_ + 6)) {
      return fail(ProtocolError::BadRequest);  // Go splits the request line at single spaces
    }
    span_ = kind;
  }
  span_end_ = start + n;
  return check_head_size(at + n);
}

bool Session::may_start_request(const char* p) const noexcept {
  // llhttp skips empty lines before a request; Go skips up to 4 CR/LF bytes, and only
  // after a POST (RFC 7230's tolerance for old clients). What lies between the last
  // message's end and p:
  std::uint64_t extra = 0;
  switch (memo_.ended) {
    case MessageEnd::Nothing: extra = offset(p); break;
    case MessageEnd::Head: extra = crlf_run_before(p) - 4; break;  // past the head's own "\r\n\r\n"
    case MessageEnd::Body: extra = offset(p) - body_end_; break;
    case MessageEnd::Chunked: break;  // its end is not known here
  }
  return extra <= (memo_.last_was_post ? 4u : 0u);
}

void Session::drop_request_data() noexcept {
  arena_.reset();
  target_.clear(), host_.clear(), content_type_.clear(), expect_.clear(), connection_.clear();
  transfer_encoding_.clear(), body_.clear(), odd_line_.clear();
  method_.clear(), version_.clear(), referer_.clear(), user_agent_.clear();
  multipart_ = nullptr;
}

int Session::on_message_begin() noexcept {
  drop_request_data();
  body_bytes_ = 0;
  section_start_ = kNone;
  span_ = Span::None;
  name_len_ = 0;
  name_too_long_ = false;
  hosts_ = content_types_ = expects_ = transfer_encodings_ = connections_ = 0;
  referers_ = user_agents_ = 0;
  url_complete_ = false;
  started_ns_ = read_ns_;
  plan_ = {};
  phase_ = Phase::Head;
  bad_name_ = false;
  return 0;
}

int Session::on_method(const char* at, std::size_t n) noexcept {
  if (int e = head_span(Span::Method, at, n)) return e;
  if (env_->access_log) method_.append(arena_, at, n);
  return 0;
}

int Session::on_url(const char* at, std::size_t n) noexcept {
  if (int e = head_span(Span::Url, at, n)) return e;
  target_.append(arena_, at, n);
  return 0;
}

int Session::on_url_complete() noexcept {
  url_complete_ = true;
  // Go parses the target with the request line, before any header: control bytes,
  // bad %-escapes in the path and bad authorities are a 400 there.
  const Target t = parse_target(target_.view(), parser_.method == HTTP_CONNECT);
  if (!t.ok) return fail(ProtocolError::BadRequest);
  target_spans_ = TargetSpans::of(t, target_.view());
  return 0;
}

int Session::on_version(const char* at, std::size_t n) noexcept {
  if (int e = head_span(Span::Version, at, n)) return e;
  if (env_->access_log) {  // llhttp's span is "1.1": the line had "HTTP/" before it
    if (version_.empty()) version_.append_copy(arena_, "HTTP/", 5);
    version_.append_copy(arena_, at, n);
  }
  return 0;
}

int Session::on_version_complete() noexcept {
  // llhttp accepts HTTP/2.0 and 0.9; hiserve speaks 1.0 and 1.1 only.
  if (parser_.http_major != 1 || parser_.http_minor > 1) return fail(ProtocolError::VersionNotSupported);
  // llhttp would wait for the rest of HTTP/2's preface after PRI; Go takes PRI as any
  // other token.
  if (parser_.method == HTTP_PRI) return fail(ProtocolError::UnknownMethod);
  return 0;
}

int Session::on_header_field(const char* at, std::size_t n) noexcept {
  if (int e = head_span(Span::Field, at, n)) return e;
  // llhttp lets "Host :" through; Go refuses such a name, but only after its Host
  // checks, so it is noted here and answered in check_head.
  for (std::size_t i = 0; i < n; ++i) bad_name_ = bad_name_ || !kTokenChar[static_cast<unsigned char>(at[i])];
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
  if (phase_ == Phase::Head && !name_too_long_) {  // trailers never count as these
    if (iequals(name, "host")) {
      field_ = Field::Host, ++hosts_;
    } else if (iequals(name, "content-type")) {
      field_ = Field::ContentType, ++content_types_;
    } else if (iequals(name, "expect")) {
      field_ = Field::Expect, ++expects_;
    } else if (iequals(name, "transfer-encoding")) {
      field_ = Field::TransferEncoding, ++transfer_encodings_;
    } else if (iequals(name, "connection")) {
      field_ = Field::Connection, ++connections_;
    } else if (env_->access_log && iequals(name, "referer")) {
      field_ = Field::Referer, ++referers_;
    } else if (env_->access_log && iequals(name, "user-agent")) {
      field_ = Field::UserAgent, ++user_agents_;
    }
  }
  name_len_ = 0;
  name_too_long_ = false;
  return 0;
}

int Session::on_header_value(const char* at, std::size_t n) noexcept {
  if (int e = head_span(Span::Value, at, n)) return e;
  // Only the first of each header counts, as with Go's Header.Get.
  switch (field_) {
    case Field::Host:
      if (hosts_ == 1) host_.append(arena_, at, n);
      break;
    case Field::ContentType:
      if (content_types_ == 1) content_type_.append(arena_, at, n);
      break;
    case Field::Expect:
      if (expects_ == 1) expect_.append(arena_, at, n);
      break;
    case Field::TransferEncoding:
      if (transfer_encodings_ == 1) transfer_encoding_.append(arena_, at, n);
      break;
    case Field::Connection:
      if (connections_ == 1) connection_.append(arena_, at, n);
      break;
    case Field::Referer:
      if (referers_ == 1) referer_.append(arena_, at, n);
      break;
    case Field::UserAgent:
      if (user_agents_ == 1) user_agent_.append(arena_, at, n);
      break;
    default: break;
  }
  return 0;
}

int Session::check_head() noexcept {
  // Go's readRequest, then conn.readRequest (its 505 came with the version line).
  if (hosts_ > 1) return fail(ProtocolError::BadRequest);  // "too many Host headers"
  if (parser_.flags & F_TRANSFER_ENCODING) {
    if (parser_.http_minor == 0) return fail(ProtocolError::BadRequest);  // RFC 9112 §6.1
    if (transfer_encodings_ > 1 || !iequals(trim_ows(transfer_encoding_.view()), "chunked"))
      return fail(ProtocolError::UnsupportedTransferEncoding);
  }
  if (hosts_ == 0 && parser_.http_minor == 1 && parser_.method != HTTP_CONNECT) return fail(ProtocolError::MissingHost);
  if (hosts_ == 1 && !valid_host_header(trim_ows(host_.view()))) return fail(ProtocolError::MalformedHost);
  if (bad_name_) return fail(ProtocolError::InvalidHeaderName);
  // Go honours "100-continue" as a token of the first Expect, and refuses any other
  // non-empty one.
  const std::string_view expect = trim_ows(expect_.view());
  if (!expect.empty() && !has_token(expect, "100-continue")) return fail(ProtocolError::ExpectationFailed);
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > env_->limits.max_body_bytes)
    return fail(ProtocolError::BodyTooLarge);
  return 0;
}

int Session::on_headers_complete() noexcept {
  // A bare LF in this feed may be in the head: pause to learn where the head ended.
  if (bare_lf_ != kNone && bare_lf_ < section_start_) bare_lf_ = next_bare_lf(feed_start_ + (section_start_ - fed_));
  if (bare_lf_ != kNone) {
    phase_ = Phase::HeadEnd;
    return HPE_PAUSED;
  }
  return finish_headers();
}

int Session::finish_headers() noexcept {
  phase_ = Phase::Body;
  if (int e = check_head()) return e;
  section_start_ = kNone;  // the trailers, if any, are a section of their own
  memo_.last_was_post = parser_.method == HTTP_POST;
  const Target target = target_spans_.in(target_.view());
  plan_ = env_->router->plan(
      {method_of(parser_.method), target, content_types_ ? content_type_.view() : std::string_view{}, parser_.http_minor},
      arena_);
  const bool has_body = (parser_.flags & F_CHUNKED) || parser_.content_length > 0;
  if (parser_.http_minor == 1 && has_body && !trim_ows(expect_.view()).empty()) {  // only 100-continue is left
    // Go sends the 100 when the handler first reads the body; a handler that never
    // does is answered at once, and the connection closes after.
    if (plan_.body == BodyUse::None) {
      plan_.close = true;
      return serve_parsed();
    }
    write_continue(*out_);
  }
  if (plan_.body == BodyUse::Multipart)
    multipart_ = new (arena_.alloc(sizeof(MultipartForm))) MultipartForm(plan_.boundary, plan_.form_key, arena_);
  return 0;
}

int Session::on_body(const char* at, std::size_t n) noexcept {
  body_bytes_ += n;
  body_end_ = offset(at + n);
  if (body_bytes_ > env_->limits.max_body_bytes) return fail(ProtocolError::BodyTooLarge);
  if (plan_.body == BodyUse::Urlencoded) body_.append(arena_, at, n);
  if (multipart_) multipart_->feed(at, n, arena_);
  return 0;
}

int Session::on_message_complete() noexcept {
  if (multipart_) multipart_->finish();
  return serve_parsed();
}

int Session::serve_parsed() noexcept {
  phase_ = Phase::Idle;
  memo_.ended = parser_.flags & F_CHUNKED ? MessageEnd::Chunked : body_bytes_ > 0 ? MessageEnd::Body : MessageEnd::Head;
  // HTTP/1.0 stays open only when the first Connection header names keep-alive.
  const bool wants_keep_alive = parser_.http_minor == 0 ? has_token(connection_.view(), "keep-alive")
                                                        : !(parser_.flags & F_CONNECTION_CLOSE);
  const Request req{method_of(parser_.method), target_.view(),
                    plan_.body == BodyUse::Urlencoded ? body_.view() : std::string_view{},
                    multipart_ ? multipart_->value() : FormValue{}, target_spans_.in(target_.view())};
  const bool keep = wants_keep_alive && !parser_.upgrade && !(plan_.body == BodyUse::Drain && body_bytes_ > kDrainLimit);
  int r;
  if (env_->access_log) {
    AccessRecord line = line_record();
    r = serve(req, parser_.http_minor, keep, &line);
  } else {
    r = serve(req, parser_.http_minor, keep, nullptr);
  }
  drop_request_data();
  return r;
}

int Session::serve(const Request& req, unsigned minor, bool wants_keep_alive, AccessRecord* line) noexcept {
  const bool keep = wants_keep_alive && !memo_.close_requested && !plan_.close;
  const ConnHeader conn = !keep ? ConnHeader::Close : minor == 0 ? ConnHeader::KeepAlive : ConnHeader::None;
  const Served served =
      env_->router->serve(req, plan_, conn, {env_->visitors, env_->date, &arena_, env_->router->state}, *out_);
  if (served.later) {
    phase_ = Phase::Waiting;
    waiting_conn_ = conn;  // Close exactly when !keep
    waiting_head_only_ = req.method == Method::Head;
    next_ = Next::Wait;
    return HPE_PAUSED;
  }
  count_response(served.status);
  if (line) {
    line->status = served.status, line->body_bytes = served.body_bytes, line->visitor = served.visitor;
    env_->access_log->record(*line);
  }
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

const char* Session::read_quick_heads(const char* p) noexcept {
  QuickHead h;
  while (next_ == Next::Read && p < feed_end_ && read_quick_head(p, feed_end_, env_->limits.max_head_bytes, &h) &&
         h.parts.ok) {  // a bad target is llhttp's to answer (400)
    const char* head = p;
    p += h.length;
    memo_.ended = MessageEnd::Head;
    memo_.last_was_post = false;
    plan_ = env_->router->plan({h.method, h.parts, {}, h.minor}, arena_);
    const Request req{h.method, h.target, {}, {}, h.parts};
    if (env_->access_log) {
      AccessRecord line;
      line.peer = peer_, line.started_ns = read_ns_;
      line.method = h.method == Method::Get ? "GET" : "HEAD";
      line.target = h.target;
      line.protocol = h.minor ? "HTTP/1.1" : "HTTP/1.0";
      line.plain_line = {head, static_cast<std::size_t>(h.target.data() + h.target.size() + 9 - head)};
      line.referer = h.referer, line.user_agent = h.user_agent;
      serve(req, h.minor, h.wants_keep_alive, &line);
    } else {
      serve(req, h.minor, h.wants_keep_alive, nullptr);
    }
    arena_.reset();
    plan_ = {};
  }
  return p;
}

const char* Session::scan_odd_method(const char* p) noexcept {
  for (; p < feed_end_; ++p) {
    if (check_head_size(p + 1)) return feed_end_;
    const char c = *p;
    if (phase_ == Phase::OddMethod) {
      if (c == ' ') {
        phase_ = Phase::OddLine;
      } else if (kTokenChar[static_cast<unsigned char>(c)]) {
        odd_method_seen_ = true;
        if (env_->access_log) method_.append(arena_, p, 1);
      } else {
        fail(ProtocolError::BadRequest);  // Go: "invalid method" or "malformed HTTP request"
        return feed_end_;
      }
      continue;
    }
    if (c != '\n') {
      odd_line_.append(arena_, p, 1);
      continue;
    }
    // The whole line: Go's readRequest takes it when it is method SP target SP
    // version, CRLF-terminated here. Then only the method stands in the way: 501.
    std::string_view rest = odd_line_.view();
    const bool crlf = !rest.empty() && rest.back() == '\r';
    rest.remove_suffix(crlf ? 1 : 0);
    const std::size_t sp = rest.find(' ');
    const bool ok = crlf && odd_method_seen_ && sp != std::string_view::npos &&
                    valid_http_version(rest.substr(sp + 1)) && parse_target(rest.substr(0, sp), false).ok;
    fail(ok ? ProtocolError::UnknownMethod : ProtocolError::BadRequest);
    return feed_end_;
  }
  odd_line_.pin(arena_), method_.pin(arena_);
  return p;
}

const char* Session::read_with_llhttp(const char* p) noexcept {
  // llhttp takes a bare LF after the request line and as the head's last line;
  // docs/behaviour.md refuses it anywhere in a head. One memchr pass finds the first, if any.
  bare_lf_ = next_bare_lf(p);
  const llhttp_errno_t err = llhttp_execute(&parser_, p, static_cast<std::size_t>(feed_end_ - p));
  const char* stop = err == HPE_OK ? feed_end_ : llhttp_get_error_pos(&parser_);
  switch (err) {
    case HPE_OK:
      if (phase_ == Phase::Head && section_start_ != kNone && bare_lf_ != kNone && bare_lf_ >= section_start_) {
        fail(ProtocolError::BadRequest);
      } else if (in_request() && (section_start_ == kNone || check_head_size(feed_end_) == 0)) {
        pin();
      }
      return feed_end_;
    case HPE_PAUSED:
      llhttp_resume(&parser_);
      if (phase_ != Phase::HeadEnd) return stop;  // next_ says why
      // Paused at the end of a head, with a bare LF somewhere in this feed.
      if (bare_lf_ < offset(stop)) {
        fail(ProtocolError::BadRequest);
        return stop;
      }
      bare_lf_ = next_bare_lf(stop);
      // Parsing goes straight on unless the head was refused or already answered.
      return finish_headers() == 0 ? read_with_llhttp(stop) : stop;
    case HPE_PAUSED_UPGRADE:  // answered with Connection: close already
      next_ = Next::Close;
      return stop;
    case HPE_INVALID_METHOD:
      if (phase_ == Phase::Failed) return stop;
      // Go takes any token as a method; llhttp knows its list. The method started at
      // llhttp's open span (llhttp 8 keeps it in _span_pos0 after an error), or in an
      // earlier feed if a piece of it was reported there.
      phase_ = Phase::OddMethod;
      odd_method_seen_ =
          section_start_ != kNone || (parser_._span_pos0 && static_cast<const char*>(parser_._span_pos0) < stop);
      if (section_start_ == kNone)
        section_start_ = offset(parser_._span_pos0 ? static_cast<const char*>(parser_._span_pos0) : stop);
      if (env_->access_log && parser_._span_pos0 && static_cast<const char*>(parser_._span_pos0) < stop) {
        const char* from = static_cast<const char*>(parser_._span_pos0);
        method_.append(arena_, from, static_cast<std::size_t>(stop - from));
      }
      return scan_odd_method(stop);
    default:
      if (phase_ != Phase::Failed) fail(llhttp_error(err, stop));
      if (env_->access_log) keep_refused_span(stop);
      return stop;
  }
}

void Session::keep_refused_span(const char* stop) noexcept {
  const std::size_t refused = stop < feed_end_ ? 1 : 0;
  if (span_ == Span::Value) {  // llhttp reported the value up to the byte it refused
    if (field_ == Field::Referer && referers_ == 1) referer_.append(arena_, stop, refused);
    if (field_ == Field::UserAgent && user_agents_ == 1) user_agent_.append(arena_, stop, refused);
    return;
  }
  // In the target, llhttp reports nothing of the piece it refused a byte in: it began
  // at llhttp's open span.
  const auto* from = static_cast<const char*>(parser_._span_pos0);
  if ((span_ == Span::Method || span_ == Span::Url) && !url_complete_ && from && from <= stop)
    target_.append(arena_, from, static_cast<std::size_t>(stop - from) + refused);
}

void Session::pin() noexcept {
  target_.pin(arena_), host_.pin(arena_), content_type_.pin(arena_), expect_.pin(arena_);
  connection_.pin(arena_), transfer_encoding_.pin(arena_), body_.pin(arena_);
  method_.pin(arena_), version_.pin(arena_), referer_.pin(arena_), user_agent_.pin(arena_);
  if (multipart_) multipart_->pin(arena_);
}

ProtocolError Session::llhttp_error(llhttp_errno_t err, const char* at) const noexcept {
  const std::string_view reason = parser_.reason ? parser_.reason : "";
  const bool te_chunked = transfer_encodings_ == 1 && iequals(trim_ows(transfer_encoding_.view()), "chunked");
  switch (err) {
    case HPE_INVALID_TRANSFER_ENCODING:  // HTTP/1.0 with Transfer-Encoding is a 400 (docs/behaviour.md)
      return parser_.http_minor == 0 ? ProtocolError::BadRequest : ProtocolError::UnsupportedTransferEncoding;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      // Content-Length with Transfer-Encoding is a 400, but Go refuses an unknown
      // coding first (reported at the end of the head, so the headers are all here).
      return parser_.http_minor == 1 && transfer_encodings_ > 0 && !te_chunked
                 ? ProtocolError::UnsupportedTransferEncoding
                 : ProtocolError::BadRequest;
    case HPE_INVALID_VERSION:
      // A well-formed digit.digit that is not 0.9/1.x/2.0; or PRI as a method, which
      // llhttp takes only as HTTP/2's preface while Go takes it as any token.
      if (reason == "Invalid HTTP version") return ProtocolError::VersionNotSupported;
      return reason == "Expected HTTP/2 Connection Preface" ? ProtocolError::UnknownMethod : ProtocolError::BadRequest;
    case HPE_INVALID_HEADER_TOKEN:
      if (reason == "Invalid header value char") return ProtocolError::InvalidHeaderValue;
      // A line with no colon is textproto's malformed line; a bad byte, a bad name.
      return at < feed_end_ && *at != '\r' && *at != '\n' ? ProtocolError::InvalidHeaderName : ProtocolError::BadRequest;
    default: return ProtocolError::BadRequest;
  }
}

void Session::count_response(int status) noexcept {
  ++memo_.responses;
  LoopStats::bump(env_->stats->requests);
  env_->stats->count_response(status);
}

Session::Next Session::deferred_written(int status) noexcept {
  phase_ = Phase::Idle;
  count_response(status);
  return waiting_conn() == ConnHeader::Close ? Next::Close : Next::Read;
}

AccessRecord Session::line_record() const noexcept {
  AccessRecord r;
  r.peer = peer_, r.started_ns = started_ns_;
  r.method = method_.view();
  if (!odd_line_.empty()) {  // an odd method's line: "target version\r", as far as it came
    std::string_view rest = odd_line_.view();
    if (rest.back() == '\r') rest.remove_suffix(1);
    const std::size_t sp = rest.find(' ');
    r.target = rest.substr(0, sp);
    if (sp != std::string_view::npos) r.protocol = rest.substr(sp + 1);
  } else {
    r.target = target_.view(), r.protocol = version_.view();
  }
  // A header that came with an empty value is "", not missing; Go trims a value's
  // trailing blanks (textproto), as quick heads do.
  if (referers_) r.referer = referer_.empty() ? std::string_view("") : trim_ows(referer_.view());
  if (user_agents_) r.user_agent = user_agent_.empty() ? std::string_view("") : trim_ows(user_agent_.view());
  return r;
}

void Session::write_protocol_error() noexcept {
  const std::size_t body = write_error(*out_, error_, *env_->date);
  ++memo_.responses;
  env_->stats->count_protocol_error(error_);
  if (env_->access_log) {
    AccessRecord line = line_record();
    line.status = status_of(error_), line.body_bytes = body;
    env_->access_log->record(line);
  }
  drop_request_data();
  next_ = Next::Close;
}

void Session::remember_recent(const char* end) noexcept {
  // The last bytes before the next feed: CR/LF runs and bare LFs look back into them.
  char* recent = memo_.recent;
  const std::size_t n = static_cast<std::size_t>(end - feed_start_);
  if (n >= sizeof memo_.recent) {
    std::memcpy(recent, end - sizeof memo_.recent, sizeof memo_.recent);
    memo_.recent_len = sizeof memo_.recent;
    return;
  }
  const std::size_t keep = std::min<std::size_t>(memo_.recent_len, sizeof memo_.recent - n);
  std::memmove(recent, recent + memo_.recent_len - keep, keep);
  std::memcpy(recent + keep, feed_start_, n);
  memo_.recent_len = static_cast<std::uint8_t>(keep + n);
}

Session::Result Session::feed(const char* data, std::size_t len, OutBuf& out) noexcept {
  out_ = &out;
  feed_start_ = data;
  feed_end_ = data + len;
  next_ = Next::Read;
  const char* p = data;
  if (in_odd_method()) {
    p = scan_odd_method(p);
  } else {
    // Between requests, the common request is read without llhttp; llhttp gets the
    // rest of the feed from the first request quick heads decline.
    if (env_->quick_heads && phase_ == Phase::Idle && len > 0 && may_start_request(p)) p = read_quick_heads(p);
    if (next_ == Next::Read && p < feed_end_) p = read_with_llhttp(p);
  }
  if (phase_ == Phase::Failed) {
    write_protocol_error();
  } else {
    remember_recent(p);
    fed_ += static_cast<std::size_t>(p - data);
  }
  return {next_, static_cast<std::size_t>(p - data)};
}

}  // namespace hiserve
