// Base64 as Go's encoding/base64.StdEncoding has it, which is what kubectl decodes a
// kubeconfig's *-data fields with: the standard alphabet, '=' padding required, line breaks
// (\r, \n) ignored anywhere, stray bits in the last character tolerated. Encoding is the
// standard one (RFC 4648 with padding): kubeconfig data, HTTP Basic credentials.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace socksnap {

// Errors say where, as Go does: "illegal base64 data at input byte 12".
Result<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace socksnap
