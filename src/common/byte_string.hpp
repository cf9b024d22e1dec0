#pragma once
// Linux argv, environment entries and paths are bytes, not text. On the wire a
// value that is valid UTF-8 travels as a JSON string and any other as
// {"b64":"..."}; these helpers make that choice and undo it.

#include <optional>
#include <string>
#include <string_view>

namespace pfd {

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

/// Decodes standard padded base64; nullopt on any malformed input.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace pfd
