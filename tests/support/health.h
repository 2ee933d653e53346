// Waiting for a server the test started to answer.
#pragma once

#include <chrono>
#include <string>

namespace socksnap::test {

// Asks `url` (https, the certificate not verified) until it answers 200, every 50 ms, each
// attempt waiting at most one second; false when `limit` passes first.
bool wait_healthy(const std::string& url, std::chrono::milliseconds limit);

}  // namespace socksnap::test
