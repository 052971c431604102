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
};

// The router's decision for one request, handed back to serve().
struct Plan {
  std::uint8_t handler = 0;  // which of the router's handlers
  BodyUse body = BodyUse::None;
  bool close = false;            // the connection closes after the response
  std::string_view boundary;     // Multipart
  std::string_view form_key;     // Multipart
};

// serve()'s answer when the response comes later (a live CPU profile): the session
// reads no further request until its connection is given the response.
inline constexpr int kAnswerLater = 0;

struct Router {
  Plan (*plan)(const RequestHead& head, Arena& arena);
  // Writes exactly one complete response to out and returns its status, or writes
  // nothing and returns kAnswerLater.
  int (*serve)(const Request& req, const Plan& plan, ConnHeader conn, const ServeContext& ctx, OutBuf& out);
  void* state = nullptr;  // handed to serve as ServeContext::state
};

// The public listener's router: /hi, Go's redirects to clean paths, "*", and 404.
extern const Router kHiRouter;

// Parses the target, plans and serves req in one step, the body already read (handler
// tests, benches); returns the status.
int serve(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);

// The /hi handler alone (the talk's handleHi); returns the status.
int serve_hi(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);

}  // namespace hiserve
