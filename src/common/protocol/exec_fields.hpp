#pragma once
// An exec request as decoded, before its fields are checked against each
// other: what the two decoders of its line share (protocol_requests.cpp's,
// over nlohmann's DOM, for every line; exec_line_reader.cpp's, one pass
// without a DOM, for the usual one).

#include "pfd/protocol.hpp"

#include <optional>
#include <string_view>

namespace pfd {

struct exec_fields {
    exec_request req;
    /// Which fields the line had: a missing one and an empty one mean
    /// different things (and get different errors).
    bool has_argv = false, has_cwd = false, has_program = false, has_container = false, has_winsize = false,
         has_termios = false;
};

/// The checks of an exec request's fields against each other and of their
/// values' meaning (an absolute cwd, names in env, ...), the same for both
/// decoders. Throws protocol_error (bad_request).
void check_exec(const exec_fields& f);

/// The exec request's line as hostexec writes it, read in one pass without
/// a DOM: strings without \u escapes, arrays of strings or small integers,
/// booleans, in any order, any JSON whitespace between them. Nothing for
/// whatever else the line holds (another op, a {"b64": ...} value, termios,
/// a \u escape, a repeated or unknown key, a number it does not take, bad
/// JSON): parse_request then decodes it with the DOM, which also words every
/// error. When it gives fields, the DOM's decoder gives the same (checked by
/// fuzz/request and tests/unit/exec_line_reader_test.cpp); they are not
/// checked yet (check_exec).
std::optional<exec_fields> read_exec_line(std::string_view line);

/// parse_request without read_exec_line: every line through the DOM. The
/// reference read_exec_line is held to.
request parse_request_with_dom(std::string_view line);

} // namespace pfd
