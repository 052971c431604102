// Opens N keep-alive connections to 127.0.0.1:PORT, makes one request on each, then
// holds them all idle for SECONDS (or until stdin closes) and exits. For measuring
// what an idle connection costs the server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: hold_connections PORT N SECONDS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]), n = std::atoi(argv[2]), seconds = std::atoi(argv[3]);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char req[] = "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      return 1;
    }
    if (write(fd, req, sizeof req - 1) != static_cast<ssize_t>(sizeof req - 1)) return 1;
    char buf[512];
    ssize_t got = 0, r;
    // Read until the body's last byte ("!") has arrived.
    while ((r = read(fd, buf, sizeof buf)) > 0) {
      got += r;
      if (buf[r - 1] == '!') break;
    }
    if (got <= 0) {
      std::fprintf(stderr, "no answer on connection %d\n", i);
      return 1;
    }
    fds.push_back(fd);
  }
  std::printf("held %d\n", n);
  std::fflush(stdout);
  pollfd p{0, POLLIN, 0};
  poll(&p, 1, seconds * 1000);
  for (int fd : fds) close(fd);
  return 0;
}
