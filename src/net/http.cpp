#include "net/http.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "util/strings.h"

namespace socksnap {
namespace {

bool is_tchar(unsigned char c) {
  if (c < 0x80 && std::isalnum(c) != 0) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return is_tchar(static_cast<unsigned char>(c));
  });
}

// RFC 9110 field-value bytes: visible ASCII, SP, HTAB and obs-text; never CR, LF, NUL or DEL.
bool is_field_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// Request targets are ASCII without spaces or controls (RFC 9112 section 3.2); '#' never
// reaches a server, so seeing it means the client is broken.
bool is_target_byte(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '#';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Result<void> parse_version(std::string_view version, HttpRequest& request) {
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      std::isdigit(static_cast<unsigned char>(version[5])) == 0 ||
      std::isdigit(static_cast<unsigned char>(version[7])) == 0) {
    return plain_error("bad HTTP version");
  }
  if (version[5] != '1') return plain_error("unsupported HTTP version");
  request.minor_version = version[7] == '0' ? 0 : 1;
  return {};
}

// Splits the target into path and query; RFC 9112 section 3.2 lists the four forms.
Result<void> parse_target(HttpRequest& request) {
  std::string_view target = request.target;
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
        return is_target_byte(static_cast<unsigned char>(c));
      })) {
    return plain_error("bad request target");
  }
  std::string_view path_and_query;
  if (target.front() == '/') {
    path_and_query = target;
  } else if (target == "*") {
    if (request.method != "OPTIONS") return plain_error("bad request target");
    request.path = '*';  // a char: at -O3 GCC 12 warns falsely (-Wrestrict) on = "*"
    return {};
  } else if (request.method == "CONNECT") {
    if (target.find_first_of("/?") != std::string_view::npos) {
      return plain_error("bad request target");
    }
    return {};  // authority-form: no path
  } else {
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos || !(iequals(target.substr(0, scheme_end), "http") ||
                                                  iequals(target.substr(0, scheme_end), "https"))) {
      return plain_error("bad request target");
    }
    std::string_view rest = target.substr(scheme_end + 3);
    size_t authority_end = std::min(rest.find('/'), rest.find('?'));
    if (authority_end == 0 || rest.empty()) return plain_error("bad request target");
    path_and_query = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  }
  size_t question = path_and_query.find('?');
  std::string_view raw_path = path_and_query.substr(0, question);
  if (question != std::string_view::npos) request.raw_query = path_and_query.substr(question + 1);
  auto path = percent_decode(raw_path.empty() ? "/" : raw_path, false);
  if (!path) return plain_error("bad percent escape in path");
  if (path->find('\0') != std::string::npos) return plain_error("NUL in path");
  request.path = std::move(*path);
  auto query = parse_query(request.raw_query);
  if (!query) return query.error();
  request.query = std::move(*query);
  return {};
}

Result<void> parse_request_line(std::string_view line, HttpRequest& request) {
  size_t first = line.find(' ');
  size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return plain_error("bad request line");
  }
  std::string_view method = line.substr(0, first);
  if (!is_token(method)) return plain_error("bad request method");
  request.method = method;
  request.target = line.substr(first + 1, second - first - 1);
  if (auto version = parse_version(line.substr(second + 1), request); !version) return version;
  return parse_target(request);
}

Result<void> parse_header_line(std::string_view line, HttpRequest& request) {
  if (line.front() == ' ' || line.front() == '\t') {
    return plain_error("folded header line (obs-fold is not allowed)");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return plain_error("header line without ':'");
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return plain_error("bad header name");
  std::string_view value = trim_ows(line.substr(colon + 1));
  if (!valid_header_value(value)) return plain_error("bad header value");
  request.headers.emplace_back(to_lower(name), std::string(value));
  return {};
}

}  // namespace

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (iequals(name, lower_name)) return &value;
  }
  return nullptr;
}

const std::string* HttpRequest::query_value(std::string_view key) const {
  for (const auto& [k, value] : query) {
    if (k == key) return &value;
  }
  return nullptr;
}

std::vector<std::string> HttpRequest::query_values(std::string_view key) const {
  std::vector<std::string> values;
  for (const auto& [k, value] : query) {
    if (k == key) values.push_back(value);
  }
  return values;
}

Result<HttpRequest> parse_request_head(std::string_view head) {
  if (head.empty()) return plain_error("empty request head");
  HttpRequest request;
  size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    size_t newline = head.find('\n', pos);
    size_t end = newline == std::string_view::npos ? head.size() : newline;
    std::string_view line = head.substr(pos, end - pos);
    pos = newline == std::string_view::npos ? head.size() : newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) return plain_error("bare CR in request head");
    if (line.empty()) {
      return plain_error(first ? "empty request line" : "empty line inside the request head");
    }
    auto parsed = first ? parse_request_line(line, request) : parse_header_line(line, request);
    if (!parsed) return parsed.error();
    first = false;
  }
  // RFC 9112 section 3.2: a server responds 400 to an HTTP/1.1 request without exactly one Host.
  auto hosts = std::count_if(request.headers.begin(), request.headers.end(),
                             [](const auto& header) { return header.first == "host"; });
  if (hosts > 1) return plain_error("several Host headers");
  if (hosts == 0 && request.minor_version >= 1) return plain_error("missing Host header");
  return request;
}

Result<std::string> percent_decode(std::string_view text, bool form) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return plain_error("bad percent escape at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && form) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view part : split(query, '&')) {
    if (part.empty()) continue;  // "a=1&&b=2", a trailing '&'
    size_t equals = part.find('=');
    auto key = percent_decode(part.substr(0, equals), true);
    if (!key) return plain_error("bad query: " + key.error().message());
    std::string value;
    if (equals != std::string_view::npos) {
      auto decoded = percent_decode(part.substr(equals + 1), true);
      if (!decoded) return plain_error("bad query: " + decoded.error().message());
      value = std::move(*decoded);
    }
    pairs.emplace_back(std::move(*key), std::move(value));
  }
  return pairs;
}

std::string_view status_text(int status) {
  struct Entry {
    int status;
    std::string_view text;
  };
  static constexpr std::array kTexts{
      Entry{100, "Continue"},
      Entry{101, "Switching Protocols"},
      Entry{200, "OK"},
      Entry{201, "Created"},
      Entry{202, "Accepted"},
      Entry{203, "Non-Authoritative Information"},
      Entry{204, "No Content"},
      Entry{205, "Reset Content"},
      Entry{206, "Partial Content"},
      Entry{300, "Multiple Choices"},
      Entry{301, "Moved Permanently"},
      Entry{302, "Found"},
      Entry{303, "See Other"},
      Entry{304, "Not Modified"},
      Entry{307, "Temporary Redirect"},
      Entry{308, "Permanent Redirect"},
      Entry{400, "Bad Request"},
      Entry{401, "Unauthorized"},
      Entry{403, "Forbidden"},
      Entry{404, "Not Found"},
      Entry{405, "Method Not Allowed"},
      Entry{406, "Not Acceptable"},
      Entry{408, "Request Timeout"},
      Entry{409, "Conflict"},
      Entry{410, "Gone"},
      Entry{411, "Length Required"},
      Entry{412, "Precondition Failed"},
      Entry{413, "Content Too Large"},
      Entry{414, "URI Too Long"},
      Entry{415, "Unsupported Media Type"},
      Entry{416, "Range Not Satisfiable"},
      Entry{417, "Expectation Failed"},
      Entry{421, "Misdirected Request"},
      Entry{422, "Unprocessable Content"},
      Entry{426, "Upgrade Required"},
      Entry{428, "Precondition Required"},
      Entry{429, "Too Many Requests"},
      Entry{431, "Request Header Fields Too Large"},
      Entry{500, "Internal Server Error"},
      Entry{501, "Not Implemented"},
      Entry{502, "Bad Gateway"},
      Entry{503, "Service Unavailable"},
      Entry{504, "Gateway Timeout"},
      Entry{505, "HTTP Version Not Supported"},
  };
  for (const auto& entry : kTexts) {
    if (entry.status == status) return entry.text;
  }
  return "";
}

std::optional<HeadExtent> find_head_end(std::string_view received) {
  size_t pos = 0;
  while ((pos = received.find('\n', pos)) != std::string_view::npos) {
    size_t next = pos + 1;
    if (next < received.size() && received[next] == '\n') return HeadExtent{next, next + 1};
    if (next + 1 < received.size() && received[next] == '\r' && received[next + 1] == '\n') {
      return HeadExtent{next, next + 2};
    }
    pos = next;
  }
  return std::nullopt;
}

size_t leading_empty_lines(std::string_view received) {
  size_t pos = 0;
  while (true) {
    if (pos < received.size() && received[pos] == '\n') {
      pos += 1;
    } else if (pos + 1 < received.size() && received[pos] == '\r' && received[pos + 1] == '\n') {
      pos += 2;
    } else {
      return pos;
    }
  }
}

Result<uint64_t> request_content_length(const HttpRequest& request) {
  std::optional<uint64_t> length;
  for (const auto& [name, value] : request.headers) {
    if (name != "content-length") continue;
    // A list of equal values ("5, 5") is what a proxy may make of duplicates; it is allowed.
    for (std::string_view item : split(value, ',')) {
      item = trim_ows(item);
      // 19 digits always fit; longer values are lengths no server accepts anyway.
      auto parsed = item.size() <= 19 && std::all_of(item.begin(), item.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; })
                        ? parse_int<uint64_t>(item)
                        : std::nullopt;
      if (!parsed) return plain_error("bad Content-Length");
      if (length && *length != *parsed) return plain_error("conflicting Content-Length values");
      length = parsed;
    }
  }
  return length.value_or(0);
}

bool wants_keep_alive(const HttpRequest& request) {
  bool close = false;
  bool keep_alive = false;
  for (const auto& [name, value] : request.headers) {
    if (name != "connection") continue;
    for (std::string_view option : split(value, ',')) {
      option = trim_ows(option);
      if (iequals(option, "close")) close = true;
      if (iequals(option, "keep-alive")) keep_alive = true;
    }
  }
  if (close) return false;
  return request.minor_version >= 1 || keep_alive;
}

bool valid_header_name(std::string_view name) {
  return is_token(name);
}

bool valid_header_value(std::string_view value) {
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return is_field_byte(static_cast<unsigned char>(c)); });
}

}  // namespace socksnap
