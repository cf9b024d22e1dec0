// Fuzz target: the event decoder (include/pfd/protocol.hpp), what every
// client does with the lines a daemon sends: a hostile or broken daemon must
// not crash hostexec or the library.
//
// Properties, for any line L:
// - parse_event(L) succeeds or throws protocol_error with bad_request;
// - what it returns encodes (encode_event) to one valid UTF-8 line that
//   parses back to the same kind of event and encodes to the same bytes;
// - shell_status of an `exited` event is defined (no overflow).

#include "byte_string.hpp"
#include "check.hpp"
#include "pfd/protocol.hpp"

#include <cstdint>
#include <string>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace pfd;
    std::string_view line = fuzz::as_text(data, size);
    event ev;
    try {
        ev = parse_event(line);
    } catch (const protocol_error& e) {
        PFD_FUZZ_CHECK(e.code() == errc::bad_request);
        return 0;
    }
    if (auto* exited = std::get_if<exited_event>(&ev)) (void)shell_status(*exited);

    std::string encoded = encode_event(ev);
    PFD_FUZZ_CHECK(!encoded.empty() && encoded.back() == '\n');
    PFD_FUZZ_CHECK(encoded.find('\n') == encoded.size() - 1);
    PFD_FUZZ_CHECK(is_valid_utf8(encoded));
    event again = parse_event(std::string_view(encoded).substr(0, encoded.size() - 1));
    PFD_FUZZ_CHECK(again.index() == ev.index());
    PFD_FUZZ_CHECK(encode_event(again) == encoded);
    return 0;
}
