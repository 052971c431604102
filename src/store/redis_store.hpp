// --counter redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?key=NAME]: one INCRBY key BLOCK
// per lease, so any number of hiserve processes on any number of machines share the
// count. hiredis's async API on the store loop (its libuv adapter); AUTH and SELECT
// when the URL has them; a command unanswered for 2 s counts as down, and the
// connection is dropped and made again.
#pragma once
#include <memory>

#include "counter_store.hpp"

struct redisAsyncContext;
struct redisReply;

namespace hiserve {

class RedisStore final : public CounterStore {
 public:
  // Parses the URL; nullptr and a one-line *error if it is malformed.
  static std::unique_ptr<RedisStore> parse(const std::string& url, std::string* error);
  ~RedisStore() override;

  const std::string& name() const noexcept override { return name_; }
  bool synchronous() const noexcept override { return false; }
  void attach(uv_loop_t* loop) override;
  void reserve(std::uint64_t size, Done done, void* ctx) override;
  void detach() noexcept override;

 private:
  RedisStore() = default;
  static void on_connect(const redisAsyncContext* c, int status);
  static void on_disconnect(const redisAsyncContext* c, int status);
  static void on_reply(redisAsyncContext* c, void* reply, void* privdata);
  static void on_timeout(uv_timer_t* t);
  // Makes the connection (and queues AUTH and SELECT); false, with *why, if it cannot.
  bool connect(const char** why);
  // Drops the connection and fails the reservation in flight.
  void drop(const char* why);
  void finish(bool ok, std::uint64_t base, const char* why);

  std::string name_, host_, user_, password_, key_ = "hiserve:visitors";
  int port_ = 6379;
  long db_ = 0;
  bool has_password_ = false;
  uv_loop_t* loop_ = nullptr;
  uv_timer_t timer_;  // the 2 s answer deadline
  bool timer_ready_ = false;
  redisAsyncContext* ctx_ = nullptr;
  // The reservation in flight.
  Done done_ = nullptr;
  void* done_ctx_ = nullptr;
  std::uint64_t size_ = 0;
  std::string error_;  // keeps a reply's error text alive for done()
};

}  // namespace hiserve
