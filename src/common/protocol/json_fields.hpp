#pragma once
// The JSON side of the wire protocol through nlohmann's DOM, shared by the
// request and event codecs (protocol_requests.cpp, exec_wire.cpp,
// protocol_events.cpp) and by nothing else: no other file builds or parses
// JSON but json_text, which writes and reads the exec line without a DOM.

#include "pfd/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pfd::json_fields {

using json = nlohmann::json;
// Encoding keeps insertion order so lines read as the spec writes them ("event" first).
using ordered_json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& message);

/// Parses one JSON object, rejecting duplicate keys at any depth (nlohmann
/// would silently keep the last one, and a request must mean one thing).
json parse_object(std::string_view line);

/// Names a field for an error message: "argv" or "argv[3]". Built only when
/// an error is reported, never on the success path.
struct field_name {
    std::string_view name;
    std::optional<std::size_t> index;
    std::string str() const;
};

/// A byte string: a JSON string, or {"b64": ...} for bytes that are not UTF-8.
std::string decode_bytes(const json& v, field_name field);
ordered_json encode_bytes(std::string_view bytes);
std::vector<std::string> decode_byte_array(const json& v, std::string_view field);
ordered_json encode_byte_array(const std::vector<std::string>& values);

/// Refuses an object with a key not in `allowed`.
void check_fields(const json& j, std::span<const std::string_view> allowed);
inline void check_fields(const json& j, std::initializer_list<std::string_view> allowed)
{
    check_fields(j, std::span(allowed.begin(), allowed.size()));
}

bool get_bool(const json& v, std::string_view field);
std::int64_t get_int(const json& v, std::string_view field, std::int64_t lo, std::int64_t hi);

/// One line, '\n' included; bytes that are not UTF-8 (messages quoting a
/// client's bytes) are replaced rather than aborting the answer.
std::string line_of(const ordered_json& j);

} // namespace pfd::json_fields
