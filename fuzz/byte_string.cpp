// Fuzz target: the byte-string codec (src/common/byte_string.hpp) and how byte
// strings travel in JSON (json_fields: a string, or {"b64":...}).
//
// Properties, for any input bytes B:
// - base64_decode(base64_encode(B)) == B; the encoding is padded, of length
//   4*ceil(n/3), in the standard alphabet;
// - base64_decode(B as text) succeeds exactly when an independent validity
//   check says B is padded standard base64, and then re-encoding the result
//   gives B back except for unused low bits of the last character;
// - is_valid_utf8(B) agrees with an independent validator written from the
//   Unicode standard's table of well-formed byte sequences (3-7);
// - decode_bytes(parse(dump(encode_bytes(B)))) == B, or bad_request when B
//   holds a NUL byte; encode_bytes picks a JSON string exactly for UTF-8.

#include "byte_string.hpp"
#include "check.hpp"
#include "json_fields.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool in_alphabet(char c)
{
    return alphabet.find(c) != std::string_view::npos;
}

/// Padded standard base64, checked character by character.
bool valid_base64(std::string_view t)
{
    if (t.size() % 4 != 0) return false;
    std::size_t pad = 0;
    if (!t.empty() && t.back() == '=') pad = t[t.size() - 2] == '=' ? 2 : 1;
    for (std::size_t i = 0; i < t.size() - pad; ++i)
        if (!in_alphabet(t[i])) return false;
    return true;
}

/// Table 3-7 of the Unicode standard: the well-formed byte sequences.
bool valid_utf8(std::string_view s)
{
    auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
    for (std::size_t i = 0; i < s.size();) {
        auto b = [&](std::size_t k) { return static_cast<unsigned char>(i + k < s.size() ? s[i + k] : 0); };
        unsigned char c = b(0);
        std::size_t n = 0;
        if (c <= 0x7F)
            n = 1;
        else if (in(c, 0xC2, 0xDF) && in(b(1), 0x80, 0xBF))
            n = 2;
        else if (c == 0xE0 && in(b(1), 0xA0, 0xBF) && in(b(2), 0x80, 0xBF))
            n = 3;
        else if ((in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF))
            n = 3;
        else if (c == 0xED && in(b(1), 0x80, 0x9F) && in(b(2), 0x80, 0xBF))
            n = 3;
        else if (c == 0xF0 && in(b(1), 0x90, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF))
            n = 4;
        else if (in(c, 0xF1, 0xF3) && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF))
            n = 4;
        else if (c == 0xF4 && in(b(1), 0x80, 0x8F) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF))
            n = 4;
        if (n == 0 || i + n > s.size()) return false;
        i += n;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace pfd;
    std::string_view bytes = fuzz::as_text(data, size);

    // Encode, then decode.
    std::string encoded = base64_encode(bytes);
    PFD_FUZZ_CHECK(encoded.size() == (size + 2) / 3 * 4);
    PFD_FUZZ_CHECK(valid_base64(encoded));
    auto decoded = base64_decode(encoded);
    PFD_FUZZ_CHECK(decoded && *decoded == bytes);

    // Decode whatever came.
    auto text_decoded = base64_decode(bytes);
    PFD_FUZZ_CHECK(text_decoded.has_value() == valid_base64(bytes));
    if (text_decoded) {
        std::size_t pad = bytes.ends_with("==") ? 2 : bytes.ends_with('=') ? 1 : 0;
        PFD_FUZZ_CHECK(text_decoded->size() == size / 4 * 3 - pad);
        std::string again = base64_encode(*text_decoded);
        PFD_FUZZ_CHECK(again.size() == size);
        // Only the last character before the padding may differ: its bits
        // beyond the last byte are not data (a lenient decoder's choice).
        std::size_t last = size - pad - 1;
        for (std::size_t i = 0; i < size; ++i)
            if (i != last || pad == 0) PFD_FUZZ_CHECK(again[i] == bytes[i]);
        PFD_FUZZ_CHECK(base64_decode(again) == text_decoded);
    }

    // UTF-8 validation against the reference.
    bool utf8 = is_valid_utf8(bytes);
    PFD_FUZZ_CHECK(utf8 == valid_utf8(bytes));

    // A byte string through JSON, as on the wire.
    auto j = json_fields::encode_bytes(bytes);
    PFD_FUZZ_CHECK(j.is_string() == utf8);
    std::string line = json_fields::line_of(j);
    PFD_FUZZ_CHECK(is_valid_utf8(line));
    auto parsed = json_fields::json::parse(line);
    try {
        std::string back = json_fields::decode_bytes(parsed, {"fuzz", std::nullopt});
        PFD_FUZZ_CHECK(back == bytes);
        PFD_FUZZ_CHECK(bytes.find('\0') == std::string_view::npos);
    } catch (const protocol_error& e) {
        PFD_FUZZ_CHECK(e.code() == errc::bad_request);
        PFD_FUZZ_CHECK(bytes.find('\0') != std::string_view::npos);
    }
    return 0;
}
