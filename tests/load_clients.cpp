#include "load_clients.hpp"

#include <chrono>
#include <memory>

#include "http_client.hpp"

namespace test {

LoadClients::LoadClients(std::vector<std::atomic<int>>& ports, int threads) : ports_(ports) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { run(i); });
}

LoadClients::~LoadClients() { stop(); }

std::vector<std::uint64_t> LoadClients::stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  return numbers_;
}

void LoadClients::mark() {
  first_503_ns_ = 0, last_503_ns_ = 0;
  mark_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::pair<double, double> LoadClients::unavailable_window() const {
  const std::int64_t first = first_503_ns_.load(), last = last_503_ns_.load(), from = mark_ns_.load();
  if (first == 0) return {-1, -1};
  return {static_cast<double>(first - from) / 1e9, static_cast<double>(last - from) / 1e9};
}

void LoadClients::run(int i) {
  std::vector<std::uint64_t> mine;
  std::unique_ptr<Client> c;
  int port = 0;
  while (!stop_) {
    const int want = ports_[static_cast<std::size_t>(i) % ports_.size()].load();
    if (!c || port != want) {
      c = std::make_unique<Client>(want, 1000);
      port = want;
      if (!c->connected()) {
        c.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
    }
    auto r = c->send("GET /hi HTTP/1.1\r\nHost: x\r\n\r\n") ? c->read_response() : std::nullopt;
    if (!r) {  // the server went away (or was killed): reconnect
      c.reset();
      continue;
    }
    if (r->status == 503) {
      ++unavailable_;
      const std::int64_t now =
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
      std::int64_t first = 0;
      first_503_ns_.compare_exchange_strong(first, now);
      for (std::int64_t last = last_503_ns_.load(); last < now && !last_503_ns_.compare_exchange_weak(last, now);) {
      }
      if (r->header("retry-after") != "1" || r->body != "visitor counter unavailable\n") unavailable_as_spec_ = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const std::size_t at = r->body.find("visitor number ");
    if (r->status == 200 && at != std::string::npos) {
      mine.push_back(std::stoull(r->body.substr(at + 15)));
      ++answered_;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  numbers_.insert(numbers_.end(), mine.begin(), mine.end());
}

}  // namespace test
