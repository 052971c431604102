// The http layer: one connection's llhttp parser, the limits SPEC.md sets, and the
// keep-alive decision. Bytes in (split anywhere, pipelined any number deep), complete
// responses out, in request order. No sockets: the fuzzer and benches drive it with
// byte strings.
#pragma once
#include <llhttp.h>

#include <cstddef>
#include <cstdint>

#include "hiserve/arena.hpp"
#include "hiserve/block_pool.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/handler.hpp"
#include "hiserve/out_buf.hpp"

namespace hiserve {

struct Limits {
  std::size_t max_head_bytes = 8192;     // request line + headers (and trailers)
  std::size_t max_body_bytes = 1 << 20;  // decoded body, Content-Length or chunked
};

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

  const char* head_origin() const noexcept { return head_origin_ ? head_origin_ : buf_start_; }
  int count_head(const char* at, std::size_t n) noexcept;
  int fail(int status) noexcept;
  void begin_message() noexcept;
  // Forgets the current request's strings and hands its arena memory back.
  void drop_request_data() noexcept;
  int headers_complete() noexcept;
  int message_complete() noexcept;
  void pin() noexcept;

  llhttp_t parser_;
  const SessionEnv* env_;
  OutBuf* out_ = nullptr;          // set during feed()
  const char* buf_start_ = nullptr;  // the bytes of the current feed()
  const char* buf_end_ = nullptr;
  const char* head_origin_ = nullptr;  // first byte of this head, if in this feed
  Arena arena_;
  ArenaText target_, content_type_, expect_, transfer_encoding_, body_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t requests_ = 0;
  std::uint32_t head_bytes_ = 0;  // of this head (and trailers) in earlier feeds
  std::uint16_t error_status_ = 0;
  char field_[20];
  std::uint8_t field_len_ = 0;  // sizeof field_ + 1: longer than any name we need
  Field field_kind_ = Field::Other;
  std::uint8_t hosts_ = 0, content_types_ = 0, expects_ = 0, transfer_encodings_ = 0;
  Next next_ = Next::Read;
  bool in_request_ = false;
  bool in_head_ = false;
  bool head_started_ = false;
  bool keep_body_ = false;
  bool close_requested_ = false;
};

}  // namespace hiserve
