#include "support/health.h"

#include <thread>

#include "net/http_client.h"

namespace socksnap::test {

bool wait_healthy(const std::string& url, std::chrono::milliseconds limit) {
  ClientTls tls;
  tls.insecure = true;
  auto client = HttpClient::create(tls);
  if (!client) return false;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    ClientRequest request;
    request.url = url;
    request.timeout = std::chrono::seconds(1);
    auto answer = (*client)->send(request);
    if (answer && answer->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace socksnap::test
