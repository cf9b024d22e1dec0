#pragma once
// The JSON side of the wire protocol, shared by the request and event codecs
// (protocol_requests.cpp, protocol_events.cpp) and by nothing else: no other
// file builds or parses JSON but exec_line_reader.cpp, which reads the usual
// exec line without a DOM.

#include "pfd/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
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

bool get_bool(const json& v, std::string_view field);
std::int64_t get_int(const json& v, std::string_view field, std::int64_t lo, std::int64_t hi);

/// Written straight into `out`, without a DOM: the exec request, which every
/// hostexec builds, is made this way (a DOM of the environment was most of
/// the client's own work). Escaped as nlohmann's dump() escapes.
void append_string(std::string& out, std::string_view utf8);
void append_bytes(std::string& out, std::string_view bytes);
void append_byte_array(std::string& out, const std::vector<std::string>& values);

/// One line, '\n' included; bytes that are not UTF-8 (messages quoting a
/// client's bytes) are replaced rather than aborting the answer.
std::string line_of(const ordered_json& j);

} // namespace pfd::json_fields
