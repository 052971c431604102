// Routers and the /hi application. A router answers two questions: once a request's
// head is complete, what its handler will need of the body (plan), and once the whole
// request is in, the response (serve). The /hi router is Go 1.19's ServeMux with one
// pattern, "/hi", and the talk's handler, its visitor number from the leased counter.
#pragma once
#include <cstdint>
#include <string_view>

#include "hiserve/arena.hpp"
#include "hiserve/counter.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/out_buf.hpp"
#include "hiserve/request.hpp"
#include "hiserve/response.hpp"

namespace hiserve {

// What a handler may use besides the request: all owned by the loop or connection.
struct ServeContext {
  LeasedCounter* visitors;  // shared by every loop
  const DateCache* date;
  Arena* arena;  // request-scoped scratch (decoded form values, paths)
  void* state;   // the router's own (Router::state)
};

// How a handler uses the request body.
enum class BodyUse : std::uint8_t {
  None,        // never read: Expect: 100-continue gets no 100, and the connection closes
  Urlencoded,  // read whole, as Request::form_body
  Multipart,   // streamed through MultipartForm, keeping Plan::form_key's value
  Drain,       // read and dropped up to 4 KiB; more closes the connection (OPTIONS *)
};

// A request whose head is complete, as the router sees it.
struct RequestHead {
  Method method;
  Target target;                  // parsed, ok
  std::string_view content_type;  // the first Content-Type, or empty
  std::uint8_t minor = 1;         // HTTP/1.minor
};

// The router's decision for one request, handed back to serve().
struct Plan {
  std::uint8_t handler = 0;  // which of the router's handlers
  BodyUse body = BodyUse::None;
  bool close = false;            // the connection closes after the response
  std::string_view boundary;     // Multipart
  std::string_view form_key;     // Multipart
};

// What serve() did with a request: wrote its one complete response (of that status,
// with that many body bytes, and the visitor number it gave, if any), or wrote nothing
// and owes it (a live CPU profile): the session then reads no further request until
// the response arrives through a DeferredResponse.
struct Served {  // 16 bytes: returned in two registers
  std::uint16_t status = 0;
  bool later = false;
  std::uint32_t body_bytes = 0;  // sent (none to a HEAD)
  std::uint64_t visitor = 0;     // 0: none
  static constexpr Served now(int status, std::size_t body_bytes = 0, std::uint64_t visitor = 0) noexcept {
    return {static_cast<std::uint16_t>(status), false, static_cast<std::uint32_t>(body_bytes), visitor};
  }
  static constexpr Served deferred() noexcept { return {0, true}; }
};
static_assert(sizeof(Served) == 16);

// Where an owed response goes: its connection, and the call that writes the response
// there (once).
struct DeferredResponse {
  void* connection;
  void (*write)(void* connection, int status, std::string_view content_type, std::string_view body) noexcept;
};

// h2o's generators are the model for answering later: serve() says Served::deferred(),
// the connection hands the router a DeferredResponse (defer), and either the router
// writes through it once, or the connection goes first and takes it back (cancel).
struct Router {
  Plan (*plan)(const RequestHead& head, Arena& arena);
  Served (*serve)(const Request& req, const Plan& plan, ConnHeader conn, const ServeContext& ctx, OutBuf& out);
  // Only for routers that defer: where the owed response goes; its connection closed
  // first; and the loop is stopping (a graceful stop: owed responses are written now).
  void (*defer)(void* state, DeferredResponse to) = nullptr;
  void (*cancel)(void* state, void* connection) = nullptr;
  void (*drain)(void* state) = nullptr;
  void* state = nullptr;  // handed to serve as ServeContext::state, and to the three above
};

// The public listener's router: /hi, Go's redirects to clean paths, "*", and 404.
extern const Router kHiRouter;

// Parses the target, plans and serves req in one step, the body already read (handler
// tests, benches).
Served serve(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);

// The /hi handler alone (the talk's handleHi).
Served serve_hi(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);

}  // namespace hiserve
