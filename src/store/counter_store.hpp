// Where leases come from: one small interface, one file per store (file_store,
// redis_store, memory_store). Everything runs on the store thread's loop, except a
// synchronous store's first reservation, made at open.
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>

namespace hiserve {

// A --counter value as errors and logs may show it: the user and password of any
// scheme://USER:PASSWORD@HOST... replaced by "***", whatever else is wrong with it.
std::string without_credentials(const std::string& spec);

class CounterStore {
 public:
  // A reservation's outcome: ok with numbers [base, base + size), or !ok and why.
  using Done = void (*)(void* ctx, bool ok, std::uint64_t base, std::uint64_t size, const char* why);

  virtual ~CounterStore() = default;
  // For log lines: the store as the user named it (no password).
  virtual const std::string& name() const noexcept = 0;
  // Whether reserve() calls done before it returns (a file, memory): the first lease
  // is then reserved at open, before the listeners.
  virtual bool synchronous() const noexcept = 0;
  // From here on the store runs on this loop (Redis connects).
  virtual void attach(uv_loop_t*) {}
  // Reserves `size` numbers, durably; calls done once. One at a time.
  virtual void reserve(std::uint64_t size, Done done, void* ctx) = 0;
  // A graceful stop: no number from `next` on was handed out.
  virtual void release(std::uint64_t /*next*/) noexcept {}
  // Closes what attach() opened; a pending reservation fails.
  virtual void detach() noexcept {}
  // What an upgrade hands the new process: the open file whose lock it holds (-1:
  // none), and the first number never reserved where only this process knows it
  // (memory's; 0 elsewhere).
  virtual int handover_fd() const noexcept { return -1; }
  virtual std::uint64_t next_unreserved() const noexcept { return 0; }
  // In an upgrade's new process, once the old one has stopped reserving: reserve above
  // everything it reserved (a file re-reads its mark; memory goes on from `next`).
  virtual void resync(std::uint64_t /*next*/) noexcept {}
  // Behind Sentinel: how many times it named another master, and the one in use
  // ("HOST:PORT", "" elsewhere). Any thread.
  virtual std::uint64_t master_changes() const noexcept { return 0; }
  virtual std::string master() const { return ""; }
};

}  // namespace hiserve
