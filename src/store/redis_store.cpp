#include "redis_store.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <cstdlib>

// hiredis's adapter is a header of static functions; its memory is hiredis's own.
#include <hiredis/adapters/libuv.h>

namespace hiserve {
namespace {

constexpr std::uint64_t kAnswerMs = 2000;  // docs/counter.md: a command unanswered in 2 s is down
// What a reply answers (hiredis hands it back as privdata).
char kSetupTag, kIncrTag;

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

std::unique_ptr<RedisStore> RedisStore::parse(const std::string& url, std::string* error) {
  auto fail = [&](const char* why) {
    *error = "bad --counter " + without_credentials(url) + ": " + why;
    return nullptr;
  };
  std::string_view rest = url;
  if (rest.substr(0, 8) != "redis://") return fail("not redis://");
  rest.remove_prefix(8);
  std::unique_ptr<RedisStore> s(new RedisStore);
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    const std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (query.substr(0, 4) != "key=" || query.find('&') != std::string_view::npos)
      return fail("the only parameter is key=NAME");
    if (!url_decode(query.substr(4), &s->key_) || s->key_.empty()) return fail("bad key");
  }
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
  std::string_view host = authority;
  if (!host.empty() && host[0] == '[') {  // an IPv6 literal
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    s->host_ = std::string(host.substr(1, close - 1));
    host = host.substr(close + 1);
    if (!host.empty() && host[0] != ':') return fail("junk after ']'");
  } else {
    s->host_ = std::string(host.substr(0, host.find(':')));
    host = host.substr(s->host_.size());
  }
  if (s->host_.empty()) return fail("no host");
  if (!host.empty()) {
    unsigned long long port = 0;
    if (!parse_number(host.substr(1), 65535, &port) || port == 0) return fail("bad port");
    s->port_ = static_cast<int>(port);
  }
  const bool v6 = s->host_.find(':') != std::string::npos;
  s->name_ = "redis://" + (v6 ? "[" + s->host_ + "]" : s->host_) + ":" + std::to_string(s->port_) + "/" +
             std::to_string(s->db_) + "?key=" + s->key_;
  return s;
}

RedisStore::~RedisStore() { detach(); }

void RedisStore::attach(uv_loop_t* loop) {
  loop_ = loop;
  timer_ready_ = uv_timer_init(loop_, &timer_) == 0;
  timer_.data = this;
}

bool RedisStore::connect(const char** why) {
  ctx_ = redisAsyncConnect(host_.c_str(), port_);
  if (!ctx_) {
    *why = "out of memory";
    return false;
  }
  if (ctx_->err) {
    error_ = ctx_->errstr;
    redisAsyncFree(ctx_);
    ctx_ = nullptr;
    *why = error_.c_str();
    return false;
  }
  ctx_->data = this;
  if (redisLibuvAttach(ctx_, loop_) != REDIS_OK) {
    redisAsyncFree(ctx_);
    ctx_ = nullptr;
    *why = "cannot watch the connection";
    return false;
  }
  redisAsyncSetConnectCallback(ctx_, on_connect);
  redisAsyncSetDisconnectCallback(ctx_, on_disconnect);
  // Queued now, sent once connected, answered before the first INCRBY.
  if (has_password_ && !user_.empty()) {
    redisAsyncCommand(ctx_, on_reply, &kSetupTag, "AUTH %b %b", user_.data(), user_.size(), password_.data(),
                      password_.size());
  } else if (has_password_) {
    redisAsyncCommand(ctx_, on_reply, &kSetupTag, "AUTH %b", password_.data(), password_.size());
  }
  if (db_ != 0) redisAsyncCommand(ctx_, on_reply, &kSetupTag, "SELECT %ld", db_);
  return true;
}

void RedisStore::reserve(std::uint64_t size, Done done, void* ctx) {
  done_ = done, done_ctx_ = ctx, size_ = size;
  error_.clear();
  const char* why = nullptr;
  if (!ctx_ && !connect(&why)) return finish(false, 0, why);
  redisAsyncCommand(ctx_, on_reply, &kIncrTag, "INCRBY %b %llu", key_.data(), key_.size(),
                    static_cast<unsigned long long>(size));
  if (timer_ready_) uv_timer_start(&timer_, on_timeout, kAnswerMs, 0);
}

void RedisStore::finish(bool ok, std::uint64_t base, const char* why) {
  if (timer_ready_) uv_timer_stop(&timer_);
  Done done = done_;
  done_ = nullptr;
  if (done) done(done_ctx_, ok, base, ok ? size_ : 0, why);
}

void RedisStore::on_connect(const redisAsyncContext* c, int status) {
  auto* s = static_cast<RedisStore*>(c->data);
  if (status == REDIS_OK) return;
  // hiredis frees the context next, failing what was queued with a NULL reply.
  s->error_ = c->errstr;
  s->ctx_ = nullptr;
}

void RedisStore::on_disconnect(const redisAsyncContext* c, int) {
  auto* s = static_cast<RedisStore*>(c->data);
  if (s->error_.empty()) s->error_ = c->err ? c->errstr : "connection closed";
  s->ctx_ = nullptr;
}

void RedisStore::on_reply(redisAsyncContext* c, void* r, void* privdata) {
  auto* s = static_cast<RedisStore*>(c->data);
  auto* reply = static_cast<redisReply*>(r);
  if (!reply) {  // the connection went away with this command unanswered
    if (privdata == &kIncrTag) s->finish(false, 0, s->error_.empty() ? "connection lost" : s->error_.c_str());
    return;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    s->error_.assign(reply->str, reply->len);
    if (privdata == &kSetupTag) return s->drop(s->error_.c_str());  // AUTH or SELECT refused
    return s->finish(false, 0, s->error_.c_str());
  }
  if (privdata != &kIncrTag) return;
  const long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
  if (v < static_cast<long long>(s->size_)) return s->finish(false, 0, "INCRBY did not answer a count");
  // INCRBY answers the new value: the lease is the `size` numbers up to it.
  s->finish(true, static_cast<std::uint64_t>(v) - s->size_ + 1, nullptr);
}

void RedisStore::on_timeout(uv_timer_t* t) { static_cast<RedisStore*>(t->data)->drop("no answer within 2 s"); }

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
