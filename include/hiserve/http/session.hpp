// The http layer: one connection's llhttp parser, the limits SPEC.md sets, and the
// keep-alive decision. Bytes in (split anywhere, pipelined any number deep), complete
// responses out, in request order. No sockets: the fuzzer and benches drive it with
// byte strings. h2o's lib/http1.c is the model: llhttp's callbacks are one-line
// forwards to the members below.
#pragma once
#include <llhttp.h>

#include <cstddef>
#include <cstdint>

#include "hiserve/arena.hpp"
#include "hiserve/block_pool.hpp"
#include "hiserve/config.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/handler.hpp"
#include "hiserve/out_buf.hpp"

namespace hiserve {

// What all sessions of one loop share; outlives them.
struct SessionEnv {
  Limits limits;
  BlockPool* chunks;
  VisitorCounter* visitors;
  const DateCache* date;
};

class Session {
 public:
  // What the caller does after feed().
  enum class Next : std::uint8_t {
    Read,   // everything was consumed: write out, then read more
    Flush,  // out is full: write it, then feed the rest (data + consumed)
    Close,  // write out, then close; the rest of the input is ignored
  };
  struct Result {
    Next next;
    std::size_t consumed;
  };

  explicit Session(const SessionEnv& env) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Parses data, appending responses (and 100 Continue) to out. The bytes need only
  // live until feed returns: a partial request keeps what it needs in the arena.
  Result feed(const char* data, std::size_t len, OutBuf& out) noexcept;

  // Bytes of a request have arrived and its response has not been written.
  bool in_request() const noexcept { return in_request_; }
  // Part of a request head has arrived, not all of it (the header timeout runs).
  bool in_head() const noexcept { return in_request_ && in_head_; }
  // Holds no memory beyond itself (an idle keep-alive connection).
  bool holds_nothing() const noexcept { return arena_.empty(); }
  // The next response closes the connection (graceful shutdown).
  void close_after_response() noexcept { close_requested_ = true; }
  // Status of the last protocol error sent (0: none); the connection closes after it.
  int error_status() const noexcept { return error_status_; }
  // Requests answered so far.
  std::uint64_t requests() const noexcept { return requests_; }

 private:
  friend struct SessionCallbacks;
  enum class Field : std::uint8_t { Other, Host, ContentType, Expect, TransferEncoding };

  // llhttp's callbacks, one member each.
  int on_message_begin() noexcept;
  int on_head_span(const char* at, std::size_t n) noexcept;
  int on_version_complete() noexcept;
  int on_url(const char* at, std::size_t n) noexcept;
  int on_header_field(const char* at, std::size_t n) noexcept;
  int on_header_field_complete() noexcept;
  int on_header_value(const char* at, std::size_t n) noexcept;
  int on_headers_complete() noexcept;
  int on_body(const char* at, std::size_t n) noexcept;
  int on_message_complete() noexcept;

  // Enforces max_head_bytes on the head (or the trailers) being parsed, counting up
  // to `upto` in the current feed.
  int check_head_size(const char* upto) noexcept;
  // Records a protocol error answered with `status`; returns llhttp's "stop" code.
  int fail(int status) noexcept;
  // Forgets the current request's strings and hands its arena memory back.
  void drop_request_data() noexcept;
  // Copies what the current request still needs out of the read buffer.
  void pin() noexcept;

  llhttp_t parser_;
  const SessionEnv* env_;
  OutBuf* out_ = nullptr;            // set during feed()
  const char* feed_start_ = nullptr;  // the bytes of the current feed()
  // Stream offset (bytes fed before feed_start_, over the session's life) and the
  // offset of the first byte of the head or trailer section being parsed (kNoSection
  // before its first byte). See check_head_size.
  std::uint64_t fed_ = 0;
  std::uint64_t section_start_ = 0;
  static constexpr std::uint64_t kNoSection = ~std::uint64_t{0};
  Arena arena_;
  ArenaText target_, content_type_, expect_, transfer_encoding_, body_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t requests_ = 0;
  std::uint16_t error_status_ = 0;
  // The header name being parsed, as far as it matters: the names we look for are
  // shorter than the buffer, so a longer name is simply Other.
  char name_[20];
  std::uint8_t name_len_ = 0;
  bool name_too_long_ = false;
  Field field_ = Field::Other;
  std::uint8_t hosts_ = 0, content_types_ = 0, expects_ = 0, transfer_encodings_ = 0;
  Next next_ = Next::Read;
  bool in_request_ = false;
  bool in_head_ = false;
  bool keep_body_ = false;
  bool close_requested_ = false;
};

}  // namespace hiserve
