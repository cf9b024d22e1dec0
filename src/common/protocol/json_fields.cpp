#include "json_fields.hpp"
#include "quote.hpp"

#include "byte_string.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace pfd::json_fields {

void bad(const std::string& message)
{
    throw protocol_error(errc::bad_request, message);
}

json parse_object(std::string_view line)
{
    // nlohmann's lexer takes a raw NUL for the end of its input: whatever
    // follows one would be ignored, not refused (found by fuzz/request).
    if (line.find('\0') != std::string_view::npos) bad("a message must not contain a NUL byte");
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    auto check = [&](int, json::parse_event_t ev, json& parsed) {
        switch (ev) {
        case json::parse_event_t::object_start:
            keys.emplace_back();
            break;
        case json::parse_event_t::object_end:
            keys.pop_back();
            break;
        case json::parse_event_t::key:
            if (!keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
                duplicate = parsed.get<std::string>();
            break;
        default:
            break;
        }
        return true;
    };
    json j;
    try {
        j = json::parse(line.begin(), line.end(), check);
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for a number beyond a double (1e400).
        bad(fmt::format("malformed JSON: {}", printable(clipped(e.what(), 2 * quoted_max))));
    }
    if (!duplicate.empty()) bad(fmt::format("duplicate key {}", quote(duplicate)));
    if (!j.is_object()) bad("a message must be a JSON object");
    return j;
}

std::string field_name::str() const
{
    return index ? fmt::format("{}[{}]", name, *index) : std::string(name);
}

std::string decode_bytes(const json& v, field_name field)
{
    std::string out;
    if (v.is_string()) {
        out = v.get<std::string>();
    } else if (v.is_object() && v.size() == 1 && v.contains("b64") && v["b64"].is_string()) {
        auto decoded = base64_decode(v["b64"].get<std::string>());
        if (!decoded) bad(fmt::format("'{}' holds invalid base64", field.str()));
        out = std::move(*decoded);
    } else {
        bad(fmt::format("'{}' must be a string or {{\"b64\":...}}", field.str()));
    }
    if (out.find('\0') != std::string::npos) bad(fmt::format("'{}' contains a NUL byte", field.str()));
    return out;
}

ordered_json encode_bytes(std::string_view bytes)
{
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return ordered_json{{"b64", base64_encode(bytes)}};
}

std::vector<std::string> decode_byte_array(const json& v, std::string_view field)
{
    if (!v.is_array()) bad(fmt::format("'{}' must be an array", field));
    std::vector<std::string> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(decode_bytes(v[i], field_name{field, i}));
    return out;
}

ordered_json encode_byte_array(const std::vector<std::string>& values)
{
    ordered_json out = ordered_json::array();
    for (auto& v : values) out.push_back(encode_bytes(v));
    return out;
}

void check_fields(const json& j, std::span<const std::string_view> allowed)
{
    for (auto& [key, value] : j.items())
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            bad(fmt::format("unknown field {}", quote(key)));
}

bool get_bool(const json& v, std::string_view field)
{
    if (!v.is_boolean()) bad(fmt::format("'{}' must be a boolean", field));
    return v.get<bool>();
}

std::int64_t get_int(const json& v, std::string_view field, std::int64_t lo, std::int64_t hi)
{
    if (!v.is_number_integer()) bad(fmt::format("'{}' must be an integer", field));
    bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi);
    if (too_big || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
        bad(fmt::format("'{}' must be between {} and {}", field, lo, hi));
    return v.get<std::int64_t>();
}

std::string line_of(const ordered_json& j)
{
    return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + '\n';
}

} // namespace pfd::json_fields
