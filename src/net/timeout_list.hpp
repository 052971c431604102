// Connections whose deadlines share one timeout, oldest first: appending keeps the
// list sorted, so a sweep only looks at the head. O(1) per request, no timer per
// connection. The links live inside each connection (h2o embeds its timeout entry
// the same way), so being watched costs no allocation.
#pragma once
#include <cstdint>

namespace hiserve {

class Connection;
class TimeoutList;

// A connection's place in at most one TimeoutList.
struct TimeoutLink {
  Connection* prev = nullptr;
  Connection* next = nullptr;
  TimeoutList* list = nullptr;
  std::uint64_t deadline = 0;  // loop time, ms
};

class TimeoutList {
 public:
  explicit TimeoutList(std::uint64_t timeout_ms = 0) noexcept : timeout_ms_(timeout_ms) {}
  std::uint64_t timeout_ms() const noexcept { return timeout_ms_; }
  // Appends c with the deadline now + timeout, taking it out of any list it was in.
  void push_back(Connection& c, std::uint64_t now) noexcept;
  // Takes c out of whatever list it is in (none: nothing happens).
  static void unlink(Connection& c) noexcept;
  bool contains(const Connection& c) const noexcept;
  Connection* front() const noexcept { return head_; }
  // The connection after c in its list, or null.
  static Connection* next(const Connection& c) noexcept;
  // The oldest connection if its deadline is at or before now, else null.
  Connection* front_due(std::uint64_t now) const noexcept;

 private:
  Connection* head_ = nullptr;
  Connection* tail_ = nullptr;
  std::uint64_t timeout_ms_;
};

}  // namespace hiserve
