#include "timeout_list.hpp"

#include "connection.hpp"

namespace hiserve {

void TimeoutList::push_back(Connection& c, std::uint64_t now) noexcept {
  unlink(c);
  TimeoutLink& l = c.timeout_;
  l.deadline = now + timeout_ms_;
  l.list = this;
  l.prev = tail_;
  l.next = nullptr;
  (tail_ ? tail_->timeout_.next : head_) = &c;
  tail_ = &c;
}

void TimeoutList::unlink(Connection& c) noexcept {
  TimeoutLink& l = c.timeout_;
  TimeoutList* list = l.list;
  if (!list) return;
  (l.prev ? l.prev->timeout_.next : list->head_) = l.next;
  (l.next ? l.next->timeout_.prev : list->tail_) = l.prev;
  l = TimeoutLink{};
}

Connection* TimeoutList::next(const Connection& c) noexcept { return c.timeout_.next; }

bool TimeoutList::contains(const Connection& c) const noexcept { return c.timeout_.list == this; }

Connection* TimeoutList::front_due(std::uint64_t now) const noexcept {
  return head_ && head_->timeout_.deadline <= now ? head_ : nullptr;
}

}  // namespace hiserve
