// HTTP/1.1 messages, and the pure parsers the server uses (unit-tested and fuzzed).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

struct ssl_st;  // OpenSSL's SSL

namespace socksnap {

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names lower-case

struct HttpRequest {
  std::string method;     // "GET", "POST", ...
  std::string target;     // as sent: "/v1/snapshot?protocol=tcp&filter=status%3ALISTEN"
  std::string path;       // percent-decoded path part: "/v1/snapshot"
  std::string raw_query;  // the part after '?', undecoded ("" when none)
  std::vector<std::pair<std::string, std::string>> query;  // decoded ('+' is a space), in order
  HeaderList headers;
  std::string body;
  std::string peer;  // "10.0.0.7:41234" or "[fd00::1]:41234"
  // The connection's TLS session while the handler runs (nullptr for a request not read from
  // one), for a handler that needs more of it than the server reads: a client's certificate.
  const ssl_st* tls = nullptr;
  // The y of "HTTP/1.y" (0 or 1; a later 1.y is read as 1.1, as RFC 9110 asks). The server needs
  // it for the keep-alive default.
  int minor_version = 1;

  const std::string* header(std::string_view lower_name) const;       // first, or nullptr
  const std::string* query_value(std::string_view key) const;         // first, or nullptr
  std::vector<std::string> query_values(std::string_view key) const;  // every one, in order
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;  // extra headers (e.g. "www-authenticate")
  std::string body;
};

// The request line and headers (everything before the blank line, without it). Errors say what
// was wrong ("bad request line", "header line without ':'", ...). Fills method, target, path,
// raw_query, query, headers (and minor_version); nothing else.
Result<HttpRequest> parse_request_head(std::string_view head);

// "a%20b+c" -> "a b c" when form is true ('+' is a space), "a b+c" when false. Invalid escapes
// are an error.
Result<std::string> percent_decode(std::string_view text, bool form);
// "a=1&b=x%20y&a=2" -> {{"a","1"},{"b","x y"},{"a","2"}}; "flag" -> {{"flag",""}}.
Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

std::string_view status_text(int status);  // 200 -> "OK", 401 -> "Unauthorized", ...; "" unknown

// Where a request head ends in what was received so far. `head` bytes are the request line and
// headers with the last header line's end-of-line (what parse_request_head takes); the blank line
// follows, and the body starts `consumed` bytes in. nullopt: the blank line has not arrived yet.
// Lines end in CRLF or, as RFC 9112 section 2.2 allows, a bare LF.
struct HeadExtent {
  size_t head = 0;
  size_t consumed = 0;
};
std::optional<HeadExtent> find_head_end(std::string_view received);

// How many bytes of empty lines start `received` (a server ignores them before a request line;
// clients send a stray CRLF after a POST body). An incomplete CRLF is not counted.
size_t leading_empty_lines(std::string_view received);

// The body length a request announces: 0 without Content-Length; an error for a value that is
// not a decimal number or for several different values (RFC 9112 section 6.3).
Result<uint64_t> request_content_length(const HttpRequest& request);

// Whether the connection stays open after the response: HTTP/1.1 unless "Connection: close",
// HTTP/1.0 only with "Connection: keep-alive".
bool wants_keep_alive(const HttpRequest& request);

// A header name is an RFC 9110 token; a value has no CR, LF or NUL (no response splitting).
bool valid_header_name(std::string_view name);
bool valid_header_value(std::string_view value);

}  // namespace socksnap
