#include "json_text.hpp"

namespace pfd::json_text {

void append_string(std::string& out, std::string_view utf8)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : utf8) {
        auto u = static_cast<unsigned char>(c);
        if (char letter = detail::letter_of[u]) {
            out += '\\';
            out += letter;
        } else if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

void append_bytes(std::string& out, std::string_view bytes)
{
    if (is_valid_utf8(bytes)) return append_string(out, bytes);
    out += R"({"b64":)";
    append_string(out, base64_encode(bytes));
    out += '}';
}

void append_byte_array(std::string& out, const std::vector<std::string>& values)
{
    out += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        append_bytes(out, values[i]);
    }
    out += ']';
}

} // namespace pfd::json_text
