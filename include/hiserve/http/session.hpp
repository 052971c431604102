// The http layer: one connection's llhttp parser, the limits docs/behaviour.md sets, Go's
// request checks, and the keep-alive decision. Bytes in (split anywhere, pipelined any
// number deep), complete responses out, in request order. No sockets: the fuzzer and
// benches drive it with byte strings. h2o's lib/http1.c is the model: llhttp's
// callbacks are one-line forwards to the members below.
#pragma once
#include <llhttp.h>

#include <cstddef>
#include <cstdint>

#include "hiserve/access_log.hpp"
#include "hiserve/arena.hpp"
#include "hiserve/block_pool.hpp"
#include "hiserve/config.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/handler.hpp"
#include "hiserve/multipart.hpp"
#include "hiserve/out_buf.hpp"
#include "hiserve/stats.hpp"

namespace hiserve {

struct QuickHead;

// What all sessions of one loop share; outlives them.
struct SessionEnv {
  Limits limits;
  BlockPool* chunks;
  LeasedCounter* visitors;
  const DateCache* date;
  LoopStats* stats;  // the loop's: responses by status, protocol errors by kind
  const Router* router = &kHiRouter;
  // Read the common request without llhttp (quick_head.hpp); off only to compare.
  bool quick_heads = true;
  // The loop's access log, or null: a line per final response (deferred ones are the
  // metrics listener's, which logs none).
  AccessLog* access_log = nullptr;
};

// How the last message on a stream ended: what precedes the next one's first byte.
enum class MessageEnd : std::uint8_t { Nothing, Head, Body, Chunked };

// What outlives a request on a stream: kept by the session while it serves the stream,
// and handed over whole to an idle connection in place of the session (which then goes
// back to its pool), and back to whichever session serves the stream next.
struct StreamMemo {
  std::uint64_t responses = 0;  // final responses written on the stream
  char recent[10];              // the stream's last bytes, oldest first
  std::uint8_t recent_len = 0;
  std::uint8_t since_end = 0;   // bytes since the last message's end (body or start), saturated
  MessageEnd ended = MessageEnd::Nothing;
  bool last_was_post = false;   // Go skips up to 4 CR/LF bytes before a request only then
  bool close_requested = false; // the next response closes the connection
};

class Session {
 public:
  // What the caller does after feed().
  enum class Next : std::uint8_t {
    Read,   // everything was consumed: write out, then read more
    Flush,  // out is full: write it, then feed the rest (data + consumed)
    Close,  // write out, then close; the rest of the input is ignored
    Wait,   // the router owes the response (Served::later): write out, keep the rest
            // (data + consumed), read nothing until deferred_written(), then feed the rest
  };
  struct Result {
    Next next;
    std::size_t consumed;
  };

  // Where the session is in its stream; every transition is named where it happens.
  //   Idle       --first byte of a request-->   Head        (on_message_begin)
  //   Head       --method llhttp does not know->  OddMethod   (read_with_llhttp)
  //   OddMethod  --space after the method-->     OddLine     (scan_odd_method)
  //   Head       --end of head, bare LF in feed--> HeadEnd     (on_headers_complete)
  //   Head, HeadEnd --head checked-->            Body        (finish_headers)
  //   Body       --request complete-->           Idle        (serve_parsed)
  //   Idle, Body --router owes the response-->   Waiting     (serve)
  //   Waiting    --deferred response written-->  Idle        (deferred_written)
  //   any        --protocol error-->             Failed      (fail); closes after its answer
  enum class Phase : std::uint8_t { Idle, Head, HeadEnd, Body, OddMethod, OddLine, Waiting, Failed };

  explicit Session(const SessionEnv& env) noexcept;
  // Between requests, with nothing held: the session may give way to its memo(), and
  // carry on another stream (or this one) from that stream's memo with restart(). Its
  // per-request state is reset by the next request either way, as between requests
  // on one stream.
  bool idle() const noexcept { return phase_ == Phase::Idle && arena_.empty(); }
  StreamMemo memo() const noexcept;
  // peer: the stream's remote address, for the access log (may be null).
  void restart(const StreamMemo& memo, const PeerAddress* peer = nullptr) noexcept;
  // CLOCK_MONOTONIC when the bytes of the next feed() were read: a request that starts
  // in them started then (the access log's request_time).
  void set_read_time(std::uint64_t ns) noexcept { read_ns_ = ns; }
  // When the request under way (in_request()) began: set_read_time()'s of that read.
  std::uint64_t started_ns() const noexcept { return started_ns_; }
  Session* parked_next = nullptr;  // the loop's SessionPool of idle sessions
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Parses data, appending responses (and 100 Continue) to out. The bytes need only
  // live until feed returns: a partial request keeps what it needs in the arena.
  Result feed(const char* data, std::size_t len, OutBuf& out) noexcept;

  Phase phase() const noexcept { return phase_; }
  // Bytes of a request have arrived and its response has not been written.
  bool in_request() const noexcept {
    return phase_ == Phase::Head || phase_ == Phase::HeadEnd || phase_ == Phase::Body || in_odd_method();
  }
  // Part of a request head has arrived, not all of it (the header timeout runs).
  bool in_head() const noexcept { return phase_ == Phase::Head || in_odd_method(); }
  // Holds no memory beyond itself (an idle keep-alive connection).
  bool holds_nothing() const noexcept { return arena_.empty(); }
  // The next response closes the connection (graceful shutdown).
  void close_after_response() noexcept { memo_.close_requested = true; }
  // Final responses written so far: the router's and a protocol error's.
  std::uint64_t responses() const noexcept { return memo_.responses; }
  // The router of this session's listener (for a deferred response's defer/cancel).
  const Router& router() const noexcept { return *env_->router; }

  // In Phase::Waiting: the owed response's Connection header, and whether it is to a
  // HEAD (no body).
  bool waiting() const noexcept { return phase_ == Phase::Waiting; }
  ConnHeader waiting_conn() const noexcept {
    return memo_.close_requested && waiting_conn_ != ConnHeader::Close ? ConnHeader::Close : waiting_conn_;
  }
  bool waiting_head_only() const noexcept { return waiting_head_only_; }
  // The owed response (of that status) has been written; what next.
  Next deferred_written(int status) noexcept;

 private:
  friend struct SessionCallbacks;
  enum class Field : std::uint8_t { Other, Host, ContentType, Expect, TransferEncoding, Connection, Referer, UserAgent };
  // The head's spans, in the order llhttp reports them.
  enum class Span : std::uint8_t { None, Method, Url, Version, Field, Value };

  // llhttp's callbacks, one member each.
  int on_message_begin() noexcept;
  int on_method(const char* at, std::size_t n) noexcept;
  int on_url(const char* at, std::size_t n) noexcept;
  int on_url_complete() noexcept;
  int on_version(const char* at, std::size_t n) noexcept;
  int on_version_complete() noexcept;
  int on_header_field(const char* at, std::size_t n) noexcept;
  int on_header_field_complete() noexcept;
  int on_header_value(const char* at, std::size_t n) noexcept;
  int on_headers_complete() noexcept;
  int on_body(const char* at, std::size_t n) noexcept;
  int on_message_complete() noexcept;

  // The three readers feed() dispatches to. Each reads from p, sets next_ (and the
  // phase), and returns where it stopped.
  // Requests read without llhttp, while they come (quick_head.hpp).
  const char* read_quick_heads(const char* p) noexcept;
  // llhttp, from p: to the end of the feed, a pause, or an error.
  const char* read_with_llhttp(const char* p) noexcept;
  // A request line llhttp refused at its method (Phase::OddMethod, OddLine): Go's rules
  // decide 501 or 400 once the line is whole.
  const char* scan_odd_method(const char* p) noexcept;
  bool in_odd_method() const noexcept { return phase_ == Phase::OddMethod || phase_ == Phase::OddLine; }

  // The stream offset of a byte of the current feed.
  std::uint64_t offset(const char* p) const noexcept { return fed_ + static_cast<std::uint64_t>(p - feed_start_); }
  // Every span of the head or trailers passes here: Go's single spaces in the request
  // line, Go's empty lines before a request, and the size limit.
  int head_span(Span kind, const char* at, std::size_t n) noexcept;
  // Go's empty-line rule: whether a request may start at p, as far as the bytes since
  // the last message's end go (both readers ask it).
  bool may_start_request(const char* p) const noexcept;
  // CR and LF bytes right before p (counting back into earlier feeds), at most 10.
  unsigned crlf_run_before(const char* p) const noexcept;
  // The stream offset of the first LF at or after p in this feed with no CR before
  // it, or kNone.
  std::uint64_t next_bare_lf(const char* p) const noexcept;
  // The rest of on_headers_complete, once no bare LF is in the head.
  int finish_headers() noexcept;
  // Keeps the stream's last bytes up to end in the memo, for the next feed to look
  // back into.
  void remember_recent(const char* end) noexcept;
  // Enforces max_head_bytes on the head (or trailers) up to `upto` in this feed.
  int check_head_size(const char* upto) noexcept;
  // The checks Go makes once the head is read, in Go's order; 0 or an error.
  int check_head() noexcept;
  // Records a protocol error (the first one counts): Phase::Failed; returns llhttp's
  // "stop" code.
  int fail(ProtocolError e) noexcept;
  // Serves the current llhttp request (its body read, or not needed).
  int serve_parsed() noexcept;
  // Serves req (planned in plan_), keeping the connection if the client wants it and
  // nothing else forbids it; sets next_, and returns llhttp's "pause" unless parsing
  // may go straight on.
  // line: the request's access-log record, status and bytes still to fill (null: no log).
  int serve(const Request& req, unsigned minor, bool wants_keep_alive, AccessRecord* line) noexcept;
  // The access-log record of the request read so far (llhttp's path).
  AccessRecord line_record() const noexcept;
  // For the log: the target, Referer or User-Agent llhttp refused a byte in keeps what
  // of it arrived, that byte included.
  void keep_refused_span(const char* stop) noexcept;
  // Counts a response of the router's.
  void count_response(int status) noexcept;
  // Forgets the current request's strings and hands its arena memory back.
  void drop_request_data() noexcept;
  // Copies what the current request still needs out of the read buffer.
  void pin() noexcept;
  // The answer to a parse error llhttp found by itself, as Go words the same fault.
  ProtocolError llhttp_error(llhttp_errno_t err, const char* at) const noexcept;
  // Writes the protocol error's response; the connection closes after it.
  void write_protocol_error() noexcept;

  llhttp_t parser_;
  const SessionEnv* env_;
  OutBuf* out_ = nullptr;             // set during feed()
  const char* feed_start_ = nullptr;  // the bytes of the current feed()
  const char* feed_end_ = nullptr;
  // Stream offsets (bytes since the session began): bytes fed before feed_start_; the
  // head's (or trailers') first byte (kNone before it); the end of the head's last
  // span; the end of the last body span; the first bare LF of this feed not yet
  // placed outside a head (kNone: none).
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  std::uint64_t fed_ = 0;
  std::uint64_t section_start_ = kNone;
  std::uint64_t span_end_ = 0;
  std::uint64_t body_end_ = 0;
  std::uint64_t bare_lf_ = kNone;
  StreamMemo memo_;  // what outlives the request
  Arena arena_;
  ArenaText target_, host_, content_type_, expect_, connection_, transfer_encoding_, body_;
  // What the access log needs besides, kept only when it is on.
  ArenaText method_, version_, referer_, user_agent_;
  const PeerAddress* peer_ = nullptr;
  std::uint64_t read_ns_ = 0;     // set_read_time()
  std::uint64_t started_ns_ = 0;  // the current request's first byte
  MultipartForm* multipart_ = nullptr;  // in the arena, for a multipart body
  Plan plan_;
  TargetSpans target_spans_;
  std::uint64_t body_bytes_ = 0;
  ProtocolError error_ = ProtocolError::BadRequest;  // valid in Phase::Failed
  // The header name being parsed, as far as it matters: the names we look for are
  // shorter than the buffer, so a longer name is simply Other.
  char name_[20];
  std::uint8_t name_len_ = 0;
  bool name_too_long_ = false;
  Field field_ = Field::Other;
  Span span_ = Span::None;
  std::uint8_t hosts_ = 0, content_types_ = 0, expects_ = 0, transfer_encodings_ = 0, connections_ = 0;
  std::uint8_t referers_ = 0, user_agents_ = 0;
  Phase phase_ = Phase::Idle;
  Next next_ = Next::Read;
  bool bad_name_ = false;  // a header name that is not a token (Go checks it last)
  bool url_complete_ = false;
  bool waiting_head_only_ = false;
  ConnHeader waiting_conn_ = ConnHeader::None;
  bool odd_method_seen_ = false;  // the odd method has a byte (else Go: "malformed")
  ArenaText odd_line_;            // the odd method's request line after the method
};

}  // namespace hiserve
