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
