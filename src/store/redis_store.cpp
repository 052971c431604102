#include "redis_store.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

// hiredis's adapter is a header of static functions; its memory is hiredis's own.
#include <hiredis/adapters/libuv.h>

namespace hiserve {
namespace {

constexpr std::uint64_t kAnswerMs = 2000;  // docs/counter.md: a command unanswered in 2 s is down
constexpr std::uint64_t kSentinelMs = 1000;  // a sentinel connects and answers within 1 s
constexpr unsigned long long kWaitMs = 1000;  // WAIT's own timeout, within kAnswerMs
// What a reply answers (hiredis hands it back as privdata).
char kSetupTag, kRoleTag, kIncrTag, kWaitTag, kSentinelTag;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
  return -1;
}

// %XX-decodes a URL part; false on a bad escape.
bool url_decode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0) return false;
    *out += static_cast<char>(hex_value(in[i + 1]) << 4 | hex_value(in[i + 2]));
    i += 2;
  }
  return true;
}

bool parse_number(std::string_view s, unsigned long long max, unsigned long long* out) {
  if (s.empty() || s.size() > 19) return false;
  unsigned long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

}  // namespace

namespace {

// HOST[:PORT] or [IPV6][:PORT]; "" or why not.
std::string parse_address(std::string_view host, int default_port, std::pair<std::string, int>* out) {
  out->second = default_port;
  if (!host.empty() && host[0] == '[') {  // an IPv6 literal
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return "missing ']'";
    out->first = std::string(host.substr(1, close - 1));
    host = host.substr(close + 1);
    if (!host.empty() && host[0] != ':') return "junk after ']'";
  } else {
    out->first = std::string(host.substr(0, host.find(':')));
    host = host.substr(out->first.size());
  }
  if (out->first.empty()) return "no host";
  if (!host.empty()) {
    unsigned long long port = 0;
    if (!parse_number(host.substr(1), 65535, &port) || port == 0) return "bad port";
    out->second = static_cast<int>(port);
  }
  return "";
}

std::string show(const std::pair<std::string, int>& a) {
  const bool v6 = a.first.find(':') != std::string::npos;
  return (v6 ? "[" + a.first + "]" : a.first) + ":" + std::to_string(a.second);
}

}  // namespace

std::unique_ptr<RedisStore> RedisStore::parse(const std::string& url, std::string* error) {
  auto fail = [&](const char* why) {
    *error = "bad --counter " + without_credentials(url) + ": " + why;
    return nullptr;
  };
  std::string_view rest = url;
  const bool sentinel = rest.substr(0, 17) == "redis-sentinel://";
  if (!sentinel && rest.substr(0, 8) != "redis://") return fail("not redis:// or redis-sentinel://");
  rest.remove_prefix(sentinel ? 17 : 8);
  std::unique_ptr<RedisStore> s(new RedisStore);
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    bool seen_key = false, seen_master = false, seen_replicas = false;
    while (true) {
      const std::string_view param = query.substr(0, query.find('&'));
      if (param.substr(0, 4) == "key=" && !seen_key) {
        seen_key = true;
        if (!url_decode(param.substr(4), &s->key_) || s->key_.empty()) return fail("bad key");
      } else if (sentinel && param.substr(0, 17) == "sentinelMasterId=" && !seen_master) {
        seen_master = true;
        if (!url_decode(param.substr(17), &s->master_name_) || s->master_name_.empty()) return fail("bad sentinelMasterId");
      } else if (sentinel && param.substr(0, 9) == "replicas=" && !seen_replicas) {
        seen_replicas = true;
        unsigned long long n = 0;
        if (!parse_number(param.substr(9), 100, &n)) return fail("bad replicas: 0 to 100");
        s->replicas_ = static_cast<unsigned>(n);
      } else {
        return fail(sentinel ? "the parameters are sentinelMasterId=NAME, key=K and replicas=N, once each"
                             : "the only parameter is key=NAME");
      }
      if (param.size() == query.size()) break;
      query.remove_prefix(param.size() + 1);
    }
  }
  if (sentinel && s->master_name_.empty()) return fail("sentinelMasterId=NAME is required");
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.size() < rest.size()) {
    unsigned long long db = 0;
    if (!parse_number(rest.substr(authority.size() + 1), 0x7fffffff, &db)) return fail("bad database number");
    s->db_ = static_cast<long>(db);
  }
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return fail("credentials are [USER]:PASSWORD@");
    if (!url_decode(userinfo.substr(0, colon), &s->user_) || !url_decode(userinfo.substr(colon + 1), &s->password_))
      return fail("bad credentials");
    s->has_password_ = true;
  }
  if (!sentinel) {
    const std::string why = parse_address(authority, 6379, &s->node_);
    if (!why.empty()) return fail(why.c_str());
    s->name_ = "redis://" + show(s->node_) + "/" + std::to_string(s->db_) + "?key=" + s->key_;
    return s;
  }
  std::string hosts;
  while (true) {
    const std::string_view one = authority.substr(0, authority.find(','));
    Address a;
    const std::string why = parse_address(one, 26379, &a);
    if (!why.empty()) return fail(why.c_str());
    if (s->sentinels_.size() == 16) return fail("more than 16 sentinels");
    s->sentinels_.push_back(a);
    hosts += (hosts.empty() ? "" : ",") + show(a);
    if (one.size() == authority.size()) break;
    authority.remove_prefix(one.size() + 1);
  }
  s->name_ = "redis-sentinel://" + hosts + "/" + std::to_string(s->db_) + "?sentinelMasterId=" + s->master_name_ +
             "&key=" + s->key_ + "&replicas=" + std::to_string(s->replicas_);
  return s;
}

RedisStore::~RedisStore() { detach(); }

void RedisStore::attach(uv_loop_t* loop) {
  loop_ = loop;
  timer_ready_ = uv_timer_init(loop_, &timer_) == 0;
  timer_.data = this;
}

redisAsyncContext* RedisStore::open(const Address& at, const char** why) {
  redisAsyncContext* c = redisAsyncConnect(at.first.c_str(), at.second);
  if (!c) {
    *why = "out of memory";
    return nullptr;
  }
  if (c->err) {
    error_ = c->errstr;
    redisAsyncFree(c);
    *why = error_.c_str();
    return nullptr;
  }
  c->data = this;
  if (redisLibuvAttach(c, loop_) != REDIS_OK) {
    redisAsyncFree(c);
    *why = "cannot watch the connection";
    return nullptr;
  }
  redisAsyncSetConnectCallback(c, on_connect);
  redisAsyncSetDisconnectCallback(c, on_disconnect);
  return c;
}

bool RedisStore::connect(const Address& at, const char** why) {
  node_ = at;
  ctx_ = open(at, why);
  if (!ctx_) return false;
  // Queued now, sent once connected, answered before the first INCRBY.
  if (has_password_ && !user_.empty()) {
    redisAsyncCommand(ctx_, on_reply, &kSetupTag, "AUTH %b %b", user_.data(), user_.size(), password_.data(),
                      password_.size());
  } else if (has_password_) {
    redisAsyncCommand(ctx_, on_reply, &kSetupTag, "AUTH %b", password_.data(), password_.size());
  }
  if (db_ != 0) redisAsyncCommand(ctx_, on_reply, &kSetupTag, "SELECT %ld", db_);
  // A sentinel's answer may be stale (a failover under way): only a master is used.
  if (!sentinels_.empty()) redisAsyncCommand(ctx_, on_reply, &kRoleTag, "ROLE");
  return true;
}

void RedisStore::reserve(std::uint64_t size, Done done, void* ctx) {
  done_ = done, done_ctx_ = ctx, size_ = size, base_ = 0;
  error_.clear();
  if (ctx_) return send_lease();
  if (!sentinels_.empty()) {
    sentinel_errors_.clear();
    return ask_sentinel(0);
  }
  const char* why = nullptr;
  if (!connect(node_, &why)) return finish(false, 0, why);
  send_lease();
}

void RedisStore::send_lease() {
  redisAsyncCommand(ctx_, on_reply, &kIncrTag, "INCRBY %b %llu", key_.data(), key_.size(),
                    static_cast<unsigned long long>(size_));
  // On the same connection, so it waits for this INCRBY (and every write before it).
  if (replicas_ > 0) redisAsyncCommand(ctx_, on_reply, &kWaitTag, "WAIT %u %llu", replicas_, kWaitMs);
  if (timer_ready_) uv_timer_start(&timer_, on_timeout, kAnswerMs, 0);
}

void RedisStore::ask_sentinel(std::size_t i) {
  for (; i < sentinels_.size(); ++i) {
    asking_ = i;
    const char* why = nullptr;
    sentinel_ = open(sentinels_[i], &why);
    if (!sentinel_) {
      sentinel_errors_ += (sentinel_errors_.empty() ? "" : "; ") + show(sentinels_[i]) + ": " + why;
      continue;
    }
    redisAsyncCommand(sentinel_, on_reply, &kSentinelTag, "SENTINEL get-master-addr-by-name %b", master_name_.data(),
                      master_name_.size());
    if (timer_ready_) uv_timer_start(&timer_, on_timeout, kSentinelMs, 0);
    return;
  }
  error_ = "no sentinel named master " + master_name_ + ": " + sentinel_errors_;
  finish(false, 0, error_.c_str());
}

void RedisStore::sentinel_answered(redisReply* reply) {
  if (timer_ready_) uv_timer_stop(&timer_);
  const Address asked = sentinels_[asking_];
  std::string why;
  Address master;
  if (!reply) {
    why = error_.empty() ? "connection lost" : error_;
  } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 && reply->element[0]->type == REDIS_REPLY_STRING &&
             reply->element[1]->type == REDIS_REPLY_STRING) {
    master.first.assign(reply->element[0]->str, reply->element[0]->len);
    unsigned long long port = 0;
    if (!parse_number({reply->element[1]->str, reply->element[1]->len}, 65535, &port) || port == 0) why = "a bad port";
    master.second = static_cast<int>(port);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    why.assign(reply->str, reply->len);
  } else {
    why = "does not know master " + master_name_;
  }
  close_sentinel();
  error_.clear();
  if (!why.empty()) {
    sentinel_errors_ += (sentinel_errors_.empty() ? "" : "; ") + show(asked) + ": " + why;
    return ask_sentinel(asking_ + 1);
  }
  const char* failed = nullptr;
  if (!connect(master, &failed)) {
    error_ = show(master) + " (the master sentinel " + show(asked) + " named): " + failed;
    return finish(false, 0, error_.c_str());
  }
  send_lease();
}

void RedisStore::close_sentinel() noexcept {
  if (redisAsyncContext* c = sentinel_) {
    sentinel_ = nullptr;
    redisAsyncFree(c);  // inside its own callback, hiredis frees it once that returns
  }
}

void RedisStore::finish(bool ok, std::uint64_t base, const char* why) {
  if (timer_ready_) uv_timer_stop(&timer_);
  Done done = done_;
  done_ = nullptr;
  if (done) done(done_ctx_, ok, base, ok ? size_ : 0, why);
}

std::string RedisStore::master() const {
  std::lock_guard lock(master_mu_);
  return master_;
}

void RedisStore::on_connect(const redisAsyncContext* c, int status) {
  auto* s = static_cast<RedisStore*>(c->data);
  if (status == REDIS_OK) return;
  // hiredis frees the context next, failing what was queued with a NULL reply.
  if (c == s->sentinel_) {
    s->sentinel_errors_ += (s->sentinel_errors_.empty() ? "" : "; ") + show(s->sentinels_[s->asking_]) + ": " + c->errstr;
    s->sentinel_ = nullptr;
    return s->ask_sentinel(s->asking_ + 1);
  }
  if (c != s->ctx_) return;
  s->error_ = show(s->node_) + ": " + c->errstr;
  s->ctx_ = nullptr;
}

void RedisStore::on_disconnect(const redisAsyncContext* c, int) {
  auto* s = static_cast<RedisStore*>(c->data);
  if (c == s->sentinel_) s->sentinel_ = nullptr;
  if (c != s->ctx_) return;
  if (s->error_.empty()) s->error_ = c->err ? c->errstr : "connection closed";
  s->ctx_ = nullptr;
}

void RedisStore::on_reply(redisAsyncContext* c, void* r, void* privdata) {
  auto* s = static_cast<RedisStore*>(c->data);
  auto* reply = static_cast<redisReply*>(r);
  if (privdata == &kSentinelTag) {
    if (c == s->sentinel_) s->sentinel_answered(reply);  // else a query given up on
    return;
  }
  if (!reply) {  // the connection went away with this command unanswered
    if (privdata == &kIncrTag || privdata == &kWaitTag)
      s->finish(false, 0, s->error_.empty() ? "connection lost" : s->error_.c_str());
    return;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    s->error_.assign(reply->str, reply->len);
    // AUTH or SELECT refused; behind Sentinel, any error (-READONLY, -MASTERDOWN): the
    // next lease finds the master again.
    if (privdata == &kSetupTag || !s->sentinels_.empty()) return s->drop(s->error_.c_str());
    return s->finish(false, 0, s->error_.c_str());
  }
  if (privdata == &kRoleTag) {
    const bool master = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
                        reply->element[0]->type == REDIS_REPLY_STRING &&
                        std::string_view(reply->element[0]->str, reply->element[0]->len) == "master";
    if (!master) {
      s->error_ = show(s->node_) + " is not a master (ROLE says " +
                  (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 && reply->element[0]->type == REDIS_REPLY_STRING
                       ? std::string(reply->element[0]->str, reply->element[0]->len)
                       : std::string("something else")) +
                  ")";
      return s->drop(s->error_.c_str());  // the INCRBY queued behind it is never used
    }
    const std::string now = show(s->node_);
    std::lock_guard lock(s->master_mu_);
    if (now != s->master_) {
      if (!s->master_.empty()) s->master_changes_.fetch_add(1, std::memory_order_relaxed);
      s->master_ = now;
      std::fprintf(stderr, "hiserve: counter store: master is %s\n", now.c_str());
    }
    return;
  }
  if (privdata == &kIncrTag) {
    const long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    if (v < static_cast<long long>(s->size_)) return s->finish(false, 0, "INCRBY did not answer a count");
    // INCRBY answers the new value: the lease is the `size` numbers up to it.
    const std::uint64_t base = static_cast<std::uint64_t>(v) - s->size_ + 1;
    if (s->replicas_ == 0) return s->finish(true, base, nullptr);
    s->base_ = base;  // used once WAIT says enough replicas have it
    return;
  }
  if (privdata == &kWaitTag && s->done_ && s->base_ != 0) {
    const long long acked = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    if (acked >= static_cast<long long>(s->replicas_)) return s->finish(true, s->base_, nullptr);
    s->error_ = "the lease reached " + std::to_string(acked < 0 ? 0 : acked) + " of " + std::to_string(s->replicas_) +
                " replicas within 1 s; not used";
    s->finish(false, 0, s->error_.c_str());
  }
}

void RedisStore::on_timeout(uv_timer_t* t) {
  auto* s = static_cast<RedisStore*>(t->data);
  if (s->sentinel_) {
    s->sentinel_errors_ += (s->sentinel_errors_.empty() ? "" : "; ") + show(s->sentinels_[s->asking_]) + ": no answer within 1 s";
    s->close_sentinel();
    return s->ask_sentinel(s->asking_ + 1);
  }
  s->drop("no answer within 2 s");
}

void RedisStore::drop(const char* why) {
  error_ = why;
  if (redisAsyncContext* c = ctx_) {
    ctx_ = nullptr;
    c->data = this;
    redisAsyncFree(c);  // fails the command in flight with a NULL reply
  }
  finish(false, 0, error_.c_str());
}

void RedisStore::detach() noexcept {
  done_ = nullptr;  // a reservation in flight fails unreported: the store is stopping
  close_sentinel();
  if (redisAsyncContext* c = ctx_) {
    ctx_ = nullptr;
    redisAsyncFree(c);
  }
  if (timer_ready_) {
    timer_ready_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  }
}

}  // namespace hiserve
