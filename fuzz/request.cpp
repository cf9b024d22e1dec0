// Fuzz target: the request decoder (include/pfd/protocol.hpp), what the
// daemon does with every line a client sends.
//
// Properties, for any line L:
// - parse_request(L) and parse_control(L) either succeed or throw
//   protocol_error with bad_request or version_mismatch; any other exception
//   escapes and libFuzzer reports it;
// - an accepted line was valid UTF-8 (JSON strings are checked, raw bytes
//   outside them are syntax errors);
// - round trip: encode_request(parse(L)) is one line of valid UTF-8 that
//   parses again to the same request, field by field, and encodes to the
//   same bytes (the encoding is a fixed point);
// - parse_request, which reads the usual exec line without a DOM, and
//   parse_request_with_dom give the same request or the same refusal;
// - the error the daemon would answer with (an `error` event quoting the
//   message, which may quote the client's bytes) is one valid UTF-8 line
//   that a client parses back to the same code and message.

#include "byte_string.hpp"
#include "check.hpp"
#include "exec_wire.hpp"
#include "pfd/protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace {

using namespace pfd;

/// What a decoder makes of a line: the request, or the code and message it
/// refuses the line with.
struct decoded {
    std::optional<request> req;
    std::optional<errc> code;
    std::string message;
    bool operator==(const decoded&) const = default;
};

decoded decode_with(request (*parse)(std::string_view), std::string_view line)
{
    try {
        return {parse(line), std::nullopt, {}};
    } catch (const protocol_error& e) {
        return {std::nullopt, e.code(), e.what()};
    }
}

/// One line, '\n' at its end and nowhere else, valid UTF-8.
void check_line(const std::string& line)
{
    PFD_FUZZ_CHECK(!line.empty() && line.back() == '\n');
    PFD_FUZZ_CHECK(line.find('\n') == line.size() - 1);
    PFD_FUZZ_CHECK(is_valid_utf8(line));
}

std::string_view body(const std::string& line)
{
    return std::string_view(line).substr(0, line.size() - 1);
}

/// What the daemon answers a refused line with, as a client reads it.
void check_refusal(errc code, const std::string& message)
{
    PFD_FUZZ_CHECK(code == errc::bad_request || code == errc::version_mismatch);
    PFD_FUZZ_CHECK(!message.empty());
    std::string answer = encode_event(error_event{code, message});
    check_line(answer);
    event ev = parse_event(body(answer));
    auto* err = std::get_if<error_event>(&ev);
    PFD_FUZZ_CHECK(err && err->code == code);
    if (is_valid_utf8(message)) PFD_FUZZ_CHECK(err->message == message);
}

/// Whether the line was accepted: then it was valid UTF-8; else its
/// refusal is checked.
bool accepted(const decoded& d, std::string_view line)
{
    if (!d.req) {
        check_refusal(*d.code, d.message);
        return false;
    }
    PFD_FUZZ_CHECK(is_valid_utf8(line));
    return true;
}

void check_request(std::string_view line)
{
    // The usual exec line is read without a DOM; any line means the same
    // to the DOM's decoder, refusals worded alike.
    decoded d = decode_with(parse_request, line);
    PFD_FUZZ_CHECK(d == decode_with(parse_request_with_dom, line));
    if (!accepted(d, line)) return;
    const request& req = *d.req;
    std::string encoded = encode_request(req);
    check_line(encoded);
    // A signal is encoded for the control line, where "pfd" is not repeated.
    request again = std::holds_alternative<signal_request>(req) ? request(parse_control(body(encoded)))
                                                                : parse_request(body(encoded));
    PFD_FUZZ_CHECK(req == again);
    PFD_FUZZ_CHECK(op_name(req) == op_name(again));
    PFD_FUZZ_CHECK(encode_request(again) == encoded);
}

void check_control(std::string_view line)
{
    decoded d = decode_with([](std::string_view l) -> request { return parse_control(l); }, line);
    if (!accepted(d, line)) return;
    int signo = std::get<signal_request>(*d.req).signo;
    PFD_FUZZ_CHECK(signo > 0);
    std::string encoded = encode_request(signal_request{signo});
    check_line(encoded);
    PFD_FUZZ_CHECK(parse_control(body(encoded)).signo == signo);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view line = pfd::fuzz::as_text(data, size);
    check_request(line);
    check_control(line);
    return 0;
}
