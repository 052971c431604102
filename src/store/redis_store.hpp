// --counter redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?key=NAME]: one INCRBY key BLOCK
// per lease, so any number of hiserve processes on any number of machines share the
// count. hiredis's async API on the store loop (its libuv adapter); AUTH and SELECT
// when the URL has them; a command unanswered for 2 s counts as down, and the
// connection is dropped and made again.
//
// --counter redis-sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][/DB]
// ?sentinelMasterId=NAME[&key=K][&replicas=N]: the same, on the master Sentinel names
// (Redis's sentinel-clients protocol; hiredis has none): the sentinels are asked in
// turn, 1 s each, and the master is used only once ROLE says so. Any error, timeout,
// -READONLY or -MASTERDOWN drops it, and the next lease asks again. With replicas=N,
// each INCRBY is followed by WAIT N 1000, and a lease fewer replicas acknowledged is
// never used: a failover to a replica that has it cannot repeat its numbers.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "counter_store.hpp"

struct redisAsyncContext;
struct redisReply;

namespace hiserve {

class RedisStore final : public CounterStore {
 public:
  // Parses a redis:// or redis-sentinel:// URL; nullptr and a one-line *error (no
  // password in it) if it is malformed.
  static std::unique_ptr<RedisStore> parse(const std::string& url, std::string* error);
  ~RedisStore() override;

  const std::string& name() const noexcept override { return name_; }
  bool synchronous() const noexcept override { return false; }
  void attach(uv_loop_t* loop) override;
  void reserve(std::uint64_t size, Done done, void* ctx) override;
  void detach() noexcept override;
  std::uint64_t master_changes() const noexcept override { return master_changes_.load(std::memory_order_relaxed); }
  std::string master() const override;

 private:
  using Address = std::pair<std::string, int>;
  RedisStore() = default;
  static void on_connect(const redisAsyncContext* c, int status);
  static void on_disconnect(const redisAsyncContext* c, int status);
  static void on_reply(redisAsyncContext* c, void* reply, void* privdata);
  static void on_timeout(uv_timer_t* t);
  // A connection to `at` on the store loop, or nullptr with *why.
  redisAsyncContext* open(const Address& at, const char** why);
  // Connects to the data node (and queues AUTH, SELECT and, behind Sentinel, ROLE);
  // false, with *why, if it cannot.
  bool connect(const Address& at, const char** why);
  // Sends the lease's INCRBY (and WAIT) on the data node's connection.
  void send_lease();
  // Asks sentinel i (and, failing that, the next ones) where the master is.
  void ask_sentinel(std::size_t i);
  void sentinel_answered(redisReply* reply);
  void close_sentinel() noexcept;
  // Drops the data node's connection and fails the reservation in flight.
  void drop(const char* why);
  void finish(bool ok, std::uint64_t base, const char* why);

  std::string name_, user_, password_, key_ = "hiserve:visitors";
  Address node_{"", 6379};  // redis://'s node; behind Sentinel, the master it named
  long db_ = 0;
  bool has_password_ = false;
  // Sentinel.
  std::vector<Address> sentinels_;  // empty: plain redis://
  std::string master_name_;
  unsigned replicas_ = 0;
  redisAsyncContext* sentinel_ = nullptr;  // the query in flight
  std::size_t asking_ = 0;                 // which sentinel
  std::string sentinel_errors_;            // what the ones asked so far said
  std::atomic<std::uint64_t> master_changes_{0};
  mutable std::mutex master_mu_;
  std::string master_;  // "HOST:PORT" of the master in use last, for /metrics

  uv_loop_t* loop_ = nullptr;
  uv_timer_t timer_;  // the 2 s answer deadline (1 s for a sentinel)
  bool timer_ready_ = false;
  redisAsyncContext* ctx_ = nullptr;
  // The reservation in flight.
  Done done_ = nullptr;
  void* done_ctx_ = nullptr;
  std::uint64_t size_ = 0, base_ = 0;
  std::string error_;  // keeps a reply's error text alive for done()
};

}  // namespace hiserve
