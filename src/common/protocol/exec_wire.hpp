#pragma once
// The exec request on the wire: its fields as one table (exec_wire.cpp)
// that both of its readers and its writer go through, so that a new field is
// one row there.

#include "pfd/protocol.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pfd {

/// An exec request as its line gave it, not yet checked (check_exec): the
/// request, and which of its fields the line named.
struct unchecked_exec {
    exec_request req;
    /// One bit per row of exec_wire.cpp's field table: a missing field and
    /// an empty one mean different things (and get different errors).
    std::uint32_t named = 0;
};

/// The exec request's line as hostexec writes it, read in one pass without
/// a DOM: strings without \u escapes, arrays of strings or small integers,
/// booleans, in any order, any JSON whitespace between them. Nothing for
/// whatever else the line holds (another op, a {"b64": ...} value, termios,
/// a \u escape, a repeated or unknown key, a number it does not take, bad
/// JSON): parse_request then decodes it with the DOM, which also words every
/// error. When it gives fields, the DOM's decoder gives the same (checked by
/// fuzz/request and tests/protocol_test.cpp).
std::optional<unchecked_exec> read_exec_line(std::string_view line);

/// The exec request from nlohmann's DOM of its line (the other ops' decoders
/// are in protocol_requests.cpp). Throws protocol_error (bad_request).
unchecked_exec decode_exec(const nlohmann::json& j);

/// The checks of an exec request's fields against each other and of their
/// values' meaning (an absolute cwd, names in env, ...), the same for both
/// readers. Throws protocol_error (bad_request).
void check_exec(const unchecked_exec& f);

/// The exec request's line, '\n' included, written without a DOM as
/// nlohmann's dump() would write it.
std::string exec_line(const exec_request& req);

/// parse_request without read_exec_line: every line through the DOM. The
/// reference read_exec_line is held to.
request parse_request_with_dom(std::string_view line);

} // namespace pfd
