// The store thread: its own uv_loop_t, woken (uv_async) when the counter wants a
// lease; it asks the store for one, installs it, and on failure logs the outage once
// and retries with backoff. The loops never wait on it: they hand out what is leased
// and answer 503 when nothing is.
#include "hiserve/store/store_thread.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>

#include "file_store.hpp"
#include "memory_store.hpp"
#include "redis_store.hpp"

namespace hiserve {

std::string without_credentials(const std::string& spec) {
  // The authority runs from "://" to the first '/', '?' or '#'; its userinfo, to the
  // last '@' in it (a password may hold an '@' of its own).
  const std::size_t start = spec.find("://");
  if (start == std::string::npos) return spec;
  const std::size_t from = start + 3;
  const std::size_t end = std::min(spec.find_first_of("/?#", from), spec.size());
  const std::size_t at = spec.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string::npos || at < from) return spec;
  return spec.substr(0, from) + "***" + spec.substr(at);
}
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kFirstRetryMs = 100, kLastRetryMs = 5000;  // docs/counter.md's backoff
// A lease used up faster than this doubles the next; one lasting longer than the
// slow mark halves it.
constexpr auto kFastLease = std::chrono::seconds(1), kSlowLease = std::chrono::seconds(8);

std::uint64_t micros(Clock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

class StoreLoop final : public StoreThread {
 public:
  StoreLoop(std::unique_ptr<CounterStore> store, std::uint64_t block) noexcept
      : store_(std::move(store)), base_block_(block), block_(block) {
    counter_.on_refill(wake, this);
  }
  ~StoreLoop() override { stop(); }

  // A synchronous store reserves its first lease here, before any listener; an
  // upgrade's new process serves the lease the old one reserved for it, and reserves
  // nothing until resume().
  bool reserve_first(std::string* error, const StoreHandover* from) {
    if (from && from->lease_size > 0) {
      counter_.install(from->lease_base, from->lease_size);
      up_.store(true);
      paused_ = true;
      // The old process's block (the handed lease is two), grown to its load: this
      // process takes that load over at once, and a block of --counter-block would be
      // used up before its refill could land.
      block_ = std::clamp(from->lease_size / 2, base_block_, base_block_ * kMaxBlockGrowth);
      block_now_.store(block_, std::memory_order_relaxed);
      asked_at_ = Clock::now();
      return true;
    }
    if (!store_->synchronous()) return true;
    asked_at_ = Clock::now();
    store_->reserve(block_, on_reserved, this);
    if (!up_.load()) *error = store_->name() + ": cannot reserve a lease: " + last_error_;
    return up_.load();
  }

  LeasedCounter& counter() noexcept override { return counter_; }

  void start() override {
    if (running_ || uv_loop_init(&loop_) != 0) return;
    uv_async_init(&loop_, &wake_, on_wake);
    uv_timer_init(&loop_, &retry_);
    wake_.data = retry_.data = this;
    store_->attach(&loop_);
    running_ = true;
    thread_ = std::thread([this] {
      maybe_reserve();
      uv_run(&loop_, UV_RUN_DEFAULT);
    });
  }

  void stop() noexcept override {
    if (running_) {
      stopping_.store(true);
      uv_async_send(&wake_);
      thread_.join();
      uv_loop_close(&loop_);
      running_ = false;
    } else if (!stopped_ && !disowned_ && counter_.leases() > 0) {
      store_->release(counter_.next_unused());  // opened, never served
    }
    stopped_ = true;
  }

  int handover_fd() const noexcept override { return store_->handover_fd(); }
  std::string master() const override { return store_->master(); }

  StoreHandover lease_for_handover() noexcept override {
    StoreHandover h{store_->handover_fd(), 0, 0};
    if (!store_->synchronous()) return h;  // Redis: the new process reserves for itself
    on_store_thread([&] {
      auto done = [](void* ctx, bool ok, std::uint64_t base, std::uint64_t size, const char*) {
        if (ok) static_cast<StoreHandover*>(ctx)->lease_base = base, static_cast<StoreHandover*>(ctx)->lease_size = size;
      };
      // Twice the block: the new process serves it alone until the old one has paused
      // and its own first reservation has landed.
      store_->reserve(2 * block_, done, &h);
    });
    h.failed = h.lease_size == 0;
    return h;
  }

  std::uint64_t pause() noexcept override {
    if (!store_->synchronous()) return 0;  // Redis: both processes may reserve, as any two instances do
    std::uint64_t next = 0;
    on_store_thread([&] {
      // A last lease first, so the requests this process still finishes while it drains
      // never find its numbers gone (a 503) for want of the reservation it no longer makes.
      auto install = [](void* self, bool ok, std::uint64_t base, std::uint64_t size, const char*) {
        if (ok) static_cast<StoreLoop*>(self)->counter_.install(base, size);
      };
      store_->reserve(block_, install, this);
      paused_ = true;
      next = store_->next_unreserved();
    });
    return next;
  }

  void resume(std::uint64_t memory_next) noexcept override {
    on_store_thread([&] {
      store_->resync(memory_next);
      paused_ = false;
    });
    if (running_) uv_async_send(&wake_);  // the lease it serves may be half used by now
  }

  void disown() noexcept override { disowned_ = true; }

  StoreStatus status() const noexcept override {
    StoreStatus s;
    s.up = up_.load(std::memory_order_relaxed) ? 1 : 0;
    s.outages = outages_.load(std::memory_order_relaxed);
    s.recoveries = recoveries_.load(std::memory_order_relaxed);
    s.leases = counter_.leases();
    s.left = counter_.left();
    s.unavailable = counter_.unavailable();
    s.served = counter_.tickets() - s.unavailable;
    s.block = block_now_.load(std::memory_order_relaxed);
    s.refill_last_us = refill_last_us_.load(std::memory_order_relaxed);
    s.refill_worst_us = refill_worst_us_.load(std::memory_order_relaxed);
    s.master_changes = store_->master_changes();
    return s;
  }

 private:
  // Runs fn on the store thread (here, before start()) and waits for it.
  void on_store_thread(const std::function<void()>& fn) {
    std::unique_lock lock(call_mu_);
    if (!running_) return fn();
    call_ = fn;
    uv_async_send(&wake_);
    call_cv_.wait(lock, [this] { return !call_; });
  }

  // From a loop thread: the counter wants a lease.
  static void wake(void* self) { uv_async_send(&static_cast<StoreLoop*>(self)->wake_); }

  static void on_wake(uv_async_t* a) {
    auto& s = *static_cast<StoreLoop*>(a->data);
    if (s.stopping_.load()) return s.shut_down();
    {
      // Reservations are synchronous or callbacks on this thread: none is under way here.
      std::lock_guard lock(s.call_mu_);
      if (s.call_) {
        s.call_();
        s.call_ = nullptr;
        s.call_cv_.notify_all();
      }
    }
    s.maybe_reserve();
  }

  static void on_retry(uv_timer_t* t) {
    auto& s = *static_cast<StoreLoop*>(t->data);
    s.retrying_ = false;
    s.maybe_reserve();
  }

  void maybe_reserve() {
    // A request only wakes the thread: the counter's state says whether a lease is due
    // (requests made while one was on its way are answered by it).
    counter_.take_refill_request();
    if (busy_ || retrying_ || stopping_.load() || paused_ || !counter_.needs_lease()) return;
    busy_ = true;
    // Leases used up within a second double the block (up to kMaxBlockGrowth times); slow ones halve it.
    const Clock::time_point now = Clock::now();
    if (counter_.leases() > 1 && now - asked_at_ < kFastLease) block_ = std::min(block_ * 2, base_block_ * kMaxBlockGrowth);
    if (now - asked_at_ > kSlowLease) block_ = std::max(block_ / 2, base_block_);
    asked_at_ = now;
    store_->reserve(block_, on_reserved, this);
  }

  static void on_reserved(void* self, bool ok, std::uint64_t base, std::uint64_t size, const char* why) {
    auto& s = *static_cast<StoreLoop*>(self);
    s.busy_ = false;
    if (s.stopping_.load()) return;
    if (!ok) return s.failed(why ? why : "unknown error");
    s.counter_.install(base, size);
    const std::uint64_t took = micros(Clock::now() - s.asked_at_);
    s.refill_last_us_.store(took, std::memory_order_relaxed);
    if (took > s.refill_worst_us_.load(std::memory_order_relaxed)) s.refill_worst_us_.store(took, std::memory_order_relaxed);
    s.block_now_.store(s.block_, std::memory_order_relaxed);
    s.backoff_ms_ = kFirstRetryMs;
    s.up_.store(true);
    if (s.down_reported_) {  // one line when it is back
      s.down_reported_ = false;
      s.recoveries_.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "hiserve: counter store %s is back\n", s.store_->name().c_str());
    }
    if (s.running_) s.maybe_reserve();  // it may have run out meanwhile
  }

  void failed(const char* why) {
    last_error_ = why;
    up_.store(false);
    if (!running_) return;  // at open: the caller reports it
    if (!down_reported_) {  // one line when it goes down
      down_reported_ = true;
      outages_.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "hiserve: counter store %s is down: %s; /hi answers 503 once the leased numbers run out\n",
                   store_->name().c_str(), why);
    }
    retrying_ = true;
    uv_timer_start(&retry_, on_retry, backoff_ms_, 0);
    backoff_ms_ = std::min(backoff_ms_ * 2, kLastRetryMs);
  }

  void shut_down() {
    // The loops have stopped: what is not handed out is recorded, where it can be.
    if (!disowned_) store_->release(counter_.next_unused());
    store_->detach();
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&retry_), nullptr);
  }

  LeasedCounter counter_;
  std::unique_ptr<CounterStore> store_;
  const std::uint64_t base_block_;
  // Store-thread state.
  std::uint64_t block_;
  std::uint64_t backoff_ms_ = kFirstRetryMs;
  Clock::time_point asked_at_{};
  bool busy_ = false, retrying_ = false, down_reported_ = false;
  std::string last_error_;
  // Owner-thread state.
  uv_loop_t loop_;
  uv_async_t wake_;
  uv_timer_t retry_;
  std::thread thread_;
  bool running_ = false, stopped_ = false;
  std::atomic<bool> disowned_{false};
  // An upgrade's calls onto the store thread (on_store_thread), and its pause.
  std::mutex call_mu_;
  std::condition_variable call_cv_;
  std::function<void()> call_;
  bool paused_ = false;  // store-thread state
  // Read by any thread.
  std::atomic<bool> stopping_{false}, up_{false};
  std::atomic<std::uint64_t> outages_{0}, recoveries_{0}, block_now_{0}, refill_last_us_{0}, refill_worst_us_{0};
};

}  // namespace

std::unique_ptr<StoreThread> StoreThread::open(const std::string& spec, std::uint64_t block, std::string* error,
                                               const StoreHandover* from) {
  std::unique_ptr<CounterStore> store;
  if (spec == "memory") {
    store = std::make_unique<MemoryStore>();
  } else if (spec.compare(0, 5, "file:") == 0) {
    store = from && from->file_fd >= 0 ? FileStore::adopt(from->file_fd, spec.substr(5), error)
                                       : FileStore::open(spec.substr(5), error);
  } else if (spec.compare(0, 8, "redis://") == 0 || spec.compare(0, 17, "redis-sentinel://") == 0) {
    store = RedisStore::parse(spec, error);
  } else {
    *error = "bad --counter " + without_credentials(spec) + ": not file:PATH, redis://..., redis-sentinel://... or memory";
  }
  if (!store) return nullptr;
  auto thread = std::make_unique<StoreLoop>(std::move(store), block);
  if (!thread->reserve_first(error, from)) return nullptr;
  return thread;
}

}  // namespace hiserve
