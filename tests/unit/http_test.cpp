// The HTTP/1.1 request-head parser, percent coding, query strings and the helpers the server
// frames requests with.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "net/http.h"
#include "util/strings.h"

namespace socksnap {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string error_of(std::string_view head) {
  auto parsed = parse_request_head(head);
  return parsed ? "parsed" : parsed.error().message();
}

TEST(HttpHead, OriginFormWithQuery) {
  auto request = parse_request_head(
      "GET /v1/snapshot?protocol=tcp&filter=status%3ALISTEN HTTP/1.1\r\n"
      "Host: node-1:10250\r\n"
      "Accept: application/json\r\n");
  ASSERT_TRUE(request) << request.error().message();
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->target, "/v1/snapshot?protocol=tcp&filter=status%3ALISTEN");
  EXPECT_EQ(request->path, "/v1/snapshot");
  EXPECT_EQ(request->raw_query, "protocol=tcp&filter=status%3ALISTEN");
  EXPECT_EQ(request->query, (Pairs{{"protocol", "tcp"}, {"filter", "status:LISTEN"}}));
  EXPECT_EQ(request->headers,
            (HeaderList{{"host", "node-1:10250"}, {"accept", "application/json"}}));
  EXPECT_EQ(request->minor_version, 1);
  EXPECT_TRUE(request->body.empty());
  EXPECT_TRUE(request->peer.empty());
}

TEST(HttpHead, LastLineEndIsOptionalAndBareLfIsAccepted) {
  auto crlf = parse_request_head("GET / HTTP/1.1\r\nHost: a");
  ASSERT_TRUE(crlf);
  EXPECT_EQ(crlf->headers, (HeaderList{{"host", "a"}}));
  auto lf = parse_request_head("POST /x HTTP/1.1\nHost: a\nContent-Length: 3\n");
  ASSERT_TRUE(lf);
  EXPECT_EQ(lf->method, "POST");
  EXPECT_EQ(lf->headers, (HeaderList{{"host", "a"}, {"content-length", "3"}}));
}

TEST(HttpHead, PathIsDecodedButPlusStaysInPath) {
  auto request = parse_request_head("GET /a%20b+c/%7Euser HTTP/1.1\r\nHost: h\r\n");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->path, "/a b+c/~user");
  EXPECT_EQ(request->raw_query, "");
  EXPECT_TRUE(request->query.empty());
}

TEST(HttpHead, EmptyQueryAfterQuestionMark) {
  auto request = parse_request_head("GET /x? HTTP/1.1\r\nHost: h\r\n");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->path, "/x");
  EXPECT_EQ(request->raw_query, "");
  EXPECT_TRUE(request->query.empty());
}

TEST(HttpHead, AbsoluteForm) {
  auto request = parse_request_head("GET http://node-1:8443/v1/health?x=1 HTTP/1.1\r\nHost: n\r\n");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target, "http://node-1:8443/v1/health?x=1");
  EXPECT_EQ(request->path, "/v1/health");
  EXPECT_EQ(request->query, (Pairs{{"x", "1"}}));
  auto bare = parse_request_head("GET HTTPS://node-1 HTTP/1.1\r\nHost: n\r\n");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
  auto query_only = parse_request_head("GET https://node-1?a=b HTTP/1.1\r\nHost: n\r\n");
  ASSERT_TRUE(query_only);
  EXPECT_EQ(query_only->path, "/");
  EXPECT_EQ(query_only->raw_query, "a=b");
}

TEST(HttpHead, AsteriskAndAuthorityForms) {
  auto options = parse_request_head("OPTIONS * HTTP/1.1\r\nHost: h\r\n");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->path, "*");
  auto connect = parse_request_head("CONNECT node-1:443 HTTP/1.1\r\nHost: node-1:443\r\n");
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->method, "CONNECT");
  EXPECT_EQ(connect->target, "node-1:443");
  EXPECT_EQ(connect->path, "");
  EXPECT_EQ(error_of("GET * HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET node-1:443 HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("CONNECT node-1:443/x HTTP/1.1\r\nHost: h\r\n"), "bad request target");
}

TEST(HttpHead, Http10NeedsNoHost) {
  auto request = parse_request_head("GET / HTTP/1.0\r\n");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->minor_version, 0);
  EXPECT_TRUE(request->headers.empty());
  auto later = parse_request_head("GET / HTTP/1.7\r\nHost: h\r\n");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->minor_version, 1);
}

TEST(HttpHead, BadRequestLines) {
  EXPECT_EQ(error_of(""), "empty request head");
  EXPECT_EQ(error_of("\r\nGET / HTTP/1.1\r\nHost: h\r\n"), "empty request line");
  EXPECT_EQ(error_of("GET / HTTP/1.1 extra\r\nHost: h\r\n"), "bad request line");
  EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: h\r\n"), "bad request line");
  EXPECT_EQ(error_of("GET /\r\nHost: h\r\n"), "bad request line");
  EXPECT_EQ(error_of("GET\r\n"), "bad request line");
  EXPECT_EQ(error_of(" GET / HTTP/1.1\r\nHost: h\r\n"), "bad request line");
  EXPECT_EQ(error_of("G(T / HTTP/1.1\r\nHost: h\r\n"), "bad request method");
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: h\r\n"), "unsupported HTTP version");
  EXPECT_EQ(error_of("GET / HTTP/1.10\r\nHost: h\r\n"), "bad HTTP version");
  EXPECT_EQ(error_of("GET / http/1.1\r\nHost: h\r\n"), "bad HTTP version");
  EXPECT_EQ(error_of("GET / HTTP/1.x\r\nHost: h\r\n"), "bad HTTP version");
  EXPECT_EQ(error_of("GET / HTTP/1.1 \r\nHost: h\r\n"), "bad request line");
  EXPECT_EQ(error_of("GET x HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET /a#frag HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET /\x7f HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET http:///x HTTP/1.1\r\nHost: h\r\n"), "bad request target");
  EXPECT_EQ(error_of("GET /a%2 HTTP/1.1\r\nHost: h\r\n"), "bad percent escape in path");
  EXPECT_EQ(error_of("GET /a%00b HTTP/1.1\r\nHost: h\r\n"), "NUL in path");
  EXPECT_EQ(error_of("GET /?a=%zz HTTP/1.1\r\nHost: h\r\n"),
            "bad query: bad percent escape at offset 0");
}

TEST(HttpHead, BadHeaderLines) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n"),
            "folded header line (obs-fold is not allowed)");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tmore\r\n"),
            "folded header line (obs-fold is not allowed)");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nno colon here\r\n"), "header line without ':'");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost : h\r\n"), "bad header name");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n: h\r\n"), "bad header name");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX(y): h\r\nHost: h\r\n"), "bad header name");
  EXPECT_EQ(error_of(std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n", 33)),
            "bad header value");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n"), "bad header value");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\rX: y\r\n"), "bare CR in request head");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\r\nX: y\r\n"),
            "empty line inside the request head");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nAccept: */*\r\n"), "missing Host header");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n"), "several Host headers");
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n"), "several Host headers");
}

TEST(HttpHead, HeadersKeepOrderDuplicatesAndValueBytes) {
  auto request = parse_request_head(
      "GET / HTTP/1.1\r\n"
      "HOST:h\r\n"
      "X-Forwarded-For:  10.0.0.1 \t\r\n"
      "x-forwarded-for: 10.0.0.2\r\n"
      "Empty:\r\n"
      "Inner:  a  b \r\n"
      "Latin: caf\xe9\r\n");
  ASSERT_TRUE(request) << request.error().message();
  EXPECT_EQ(request->headers, (HeaderList{{"host", "h"},
                                          {"x-forwarded-for", "10.0.0.1"},
                                          {"x-forwarded-for", "10.0.0.2"},
                                          {"empty", ""},
                                          {"inner", "a  b"},
                                          {"latin", "caf\xe9"}}));
  ASSERT_NE(request->header("x-forwarded-for"), nullptr);
  EXPECT_EQ(*request->header("x-forwarded-for"), "10.0.0.1");
  ASSERT_NE(request->header("X-Forwarded-For"), nullptr);
  EXPECT_EQ(*request->header("X-Forwarded-For"), "10.0.0.1");
  EXPECT_EQ(request->header("x-forwarded"), nullptr);
}

TEST(HttpQuery, DecodingAndOrder) {
  EXPECT_EQ(*parse_query("a=1&b=x%20y&a=2"), (Pairs{{"a", "1"}, {"b", "x y"}, {"a", "2"}}));
  EXPECT_EQ(*parse_query("flag"), (Pairs{{"flag", ""}}));
  EXPECT_EQ(*parse_query(""), Pairs{});
  EXPECT_EQ(*parse_query("a=&=v&&b"), (Pairs{{"a", ""}, {"", "v"}, {"b", ""}}));
  EXPECT_EQ(*parse_query("q=a+b%2Bc&sel=app%3Dweb%2Ctier%3Dfront"),
            (Pairs{{"q", "a b+c"}, {"sel", "app=web,tier=front"}}));
  EXPECT_EQ(*parse_query("k%3D=v=w"), (Pairs{{"k=", "v=w"}}));
  EXPECT_EQ(*parse_query("x=%E2%9C%93"), (Pairs{{"x", "\xe2\x9c\x93"}}));
  EXPECT_EQ(parse_query("a=%4").error().message(), "bad query: bad percent escape at offset 0");
  EXPECT_EQ(parse_query("ok=1&a%G0=1").error().message(),
            "bad query: bad percent escape at offset 1");
}

TEST(HttpQuery, RequestAccessors) {
  auto request = parse_request_head("GET /?col=a&col=b&one=1&col=c&empty HTTP/1.1\r\nHost: h\r\n");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->query_values("col"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(request->query_values("none"), std::vector<std::string>{});
  ASSERT_NE(request->query_value("col"), nullptr);
  EXPECT_EQ(*request->query_value("col"), "a");
  ASSERT_NE(request->query_value("empty"), nullptr);
  EXPECT_EQ(*request->query_value("empty"), "");
  EXPECT_EQ(request->query_value("Col"), nullptr);
}

TEST(HttpPercent, DecodeFormAndPath) {
  EXPECT_EQ(*percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(*percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(*percent_decode("%41%62%2f%2F", false), "Ab//");
  EXPECT_EQ(*percent_decode("", false), "");
  EXPECT_EQ(*percent_decode("%00", false), std::string(1, '\0'));
  EXPECT_EQ(*percent_decode("%ff", false), "\xff");
  EXPECT_EQ(percent_decode("%", false).error().message(), "bad percent escape at offset 0");
  EXPECT_EQ(percent_decode("ab%4", false).error().message(), "bad percent escape at offset 2");
  EXPECT_EQ(percent_decode("%g1", true).error().message(), "bad percent escape at offset 0");
  EXPECT_EQ(percent_decode("%1g", true).error().message(), "bad percent escape at offset 0");
  EXPECT_EQ(percent_decode("x%+1", true).error().message(), "bad percent escape at offset 1");
}

TEST(HttpPercent, EncodeKeepsUnreservedOnly) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a b+c/d?e=f&g"), "a%20b%2Bc%2Fd%3Fe%3Df%26g");
  EXPECT_EQ(percent_encode("status:LISTEN"), "status%3ALISTEN");
  EXPECT_EQ(percent_encode(std::string("\0\xff\x80", 3)), "%00%FF%80");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(HttpPercent, RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string encoded = percent_encode(all);
  EXPECT_EQ(encoded.size(), 66 + 190 * 3);  // 66 unreserved bytes, the rest as %XX
  EXPECT_EQ(*percent_decode(encoded, false), all);
  EXPECT_EQ(*percent_decode(encoded, true), all);  // no '+' survives encoding
  auto pairs = parse_query("k=" + percent_encode("a=b&c d+e") + "&" + percent_encode("x y") + "=1");
  ASSERT_TRUE(pairs);
  EXPECT_EQ(*pairs, (Pairs{{"k", "a=b&c d+e"}, {"x y", "1"}}));
}

TEST(HttpStatus, Texts) {
  EXPECT_EQ(status_text(200), "OK");
  EXPECT_EQ(status_text(400), "Bad Request");
  EXPECT_EQ(status_text(401), "Unauthorized");
  EXPECT_EQ(status_text(404), "Not Found");
  EXPECT_EQ(status_text(408), "Request Timeout");
  EXPECT_EQ(status_text(413), "Content Too Large");
  EXPECT_EQ(status_text(431), "Request Header Fields Too Large");
  EXPECT_EQ(status_text(500), "Internal Server Error");
  EXPECT_EQ(status_text(501), "Not Implemented");
  EXPECT_EQ(status_text(503), "Service Unavailable");
  EXPECT_EQ(status_text(299), "");
  EXPECT_EQ(status_text(0), "");
  EXPECT_EQ(status_text(-1), "");
}

TEST(HttpFraming, HeadEnd) {
  auto crlf = find_head_end("GET / HTTP/1.1\r\nHost: h\r\n\r\nbody");
  ASSERT_TRUE(crlf);
  EXPECT_EQ(crlf->head, 25u);
  EXPECT_EQ(crlf->consumed, 27u);
  auto lf = find_head_end("GET / HTTP/1.0\n\nrest");
  ASSERT_TRUE(lf);
  EXPECT_EQ(lf->head, 15u);
  EXPECT_EQ(lf->consumed, 16u);
  auto mixed = find_head_end("GET / HTTP/1.1\r\nHost: h\n\r\n");
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->head, 24u);
  EXPECT_EQ(mixed->consumed, 26u);
  EXPECT_FALSE(find_head_end("GET / HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_FALSE(find_head_end("GET / HTTP/1.1\r\nHost: h\r\n\r"));
  EXPECT_FALSE(find_head_end("GET / HTTP/1.1\r\n\rX: y\r\n"));
  EXPECT_FALSE(find_head_end(""));
}

TEST(HttpFraming, LeadingEmptyLines) {
  EXPECT_EQ(leading_empty_lines("\r\n\r\nGET"), 4u);
  EXPECT_EQ(leading_empty_lines("\n\r\nGET"), 3u);
  EXPECT_EQ(leading_empty_lines("GET\r\n"), 0u);
  EXPECT_EQ(leading_empty_lines("\r\n\r"), 2u);  // the lone CR may be half of the next CRLF
  EXPECT_EQ(leading_empty_lines(""), 0u);
}

HttpRequest with_headers(HeaderList headers, int minor_version = 1) {
  HttpRequest request;
  request.headers = std::move(headers);
  request.minor_version = minor_version;
  return request;
}

TEST(HttpFraming, ContentLength) {
  EXPECT_EQ(*request_content_length(with_headers({})), 0u);
  EXPECT_EQ(*request_content_length(with_headers({{"content-length", "42"}})), 42u);
  EXPECT_EQ(*request_content_length(with_headers({{"content-length", "7, 7"}})), 7u);
  EXPECT_EQ(
      *request_content_length(with_headers({{"content-length", "5"}, {"content-length", "5"}})),
      5u);
  EXPECT_EQ(*request_content_length(with_headers({{"content-length", "9999999999999999999"}})),
            9999999999999999999ull);
  EXPECT_EQ(request_content_length(with_headers({{"content-length", "5"}, {"content-length", "6"}}))
                .error()
                .message(),
            "conflicting Content-Length values");
  for (const char* bad : {"", "-1", "+1", "0x10", "1 2", "1.0", "99999999999999999999", "5,"}) {
    EXPECT_EQ(request_content_length(with_headers({{"content-length", bad}})).error().message(),
              "bad Content-Length")
        << bad;
  }
}

TEST(HttpFraming, KeepAlive) {
  EXPECT_TRUE(wants_keep_alive(with_headers({})));
  EXPECT_FALSE(wants_keep_alive(with_headers({{"connection", "close"}})));
  EXPECT_FALSE(wants_keep_alive(with_headers({{"connection", "Upgrade, Close"}})));
  EXPECT_FALSE(wants_keep_alive(with_headers({}, 0)));
  EXPECT_TRUE(wants_keep_alive(with_headers({{"connection", "Keep-Alive"}}, 0)));
  EXPECT_FALSE(wants_keep_alive(with_headers({{"connection", "keep-alive, close"}}, 0)));
}

TEST(HttpFraming, HeaderValidity) {
  EXPECT_TRUE(valid_header_name("www-authenticate"));
  EXPECT_TRUE(valid_header_name("X_Weird!#$%&'*+.^`|~1"));
  EXPECT_FALSE(valid_header_name(""));
  EXPECT_FALSE(valid_header_name("a b"));
  EXPECT_FALSE(valid_header_name("a:b"));
  EXPECT_FALSE(valid_header_name("caf\xe9"));
  EXPECT_TRUE(valid_header_value("Bearer abc, realm=\"x\"\t"));
  EXPECT_TRUE(valid_header_value(""));
  EXPECT_FALSE(valid_header_value("a\r\nSet-Cookie: x"));
  EXPECT_FALSE(valid_header_value("a\nb"));
  EXPECT_FALSE(valid_header_value(std::string("a\0b", 3)));
  EXPECT_FALSE(valid_header_value("a\x7f"));
}

}  // namespace
}  // namespace socksnap
