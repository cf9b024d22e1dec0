#pragma once
// Strings from outside (a client's argv, names and build, a path from a
// cloned repository) as pfd prints them, on a terminal or in the log: capped
// (a megabyte of argv[0] must not come back a megabyte long, nor be copied
// to every watcher, spec §9) and escaped, so that they show as text and
// never act: no escape sequence rewrites the screen or the title, no newline
// forges a log line, no bidi override reorders what is read. printable()
// is the one escaping; shell_word() and quote() are built on it.

#include <cstddef>
#include <string>
#include <string_view>

namespace pfd {

/// How much of one client string an event or a log line quotes.
inline constexpr std::size_t quoted_max = 256;

/// `s` cut to at most `max` bytes at a UTF-8 character boundary, with "…"
/// appended when something was cut.
std::string clipped(std::string_view s, std::size_t max = quoted_max);

/// `text` safe to print: C0 controls, DEL, '\' and each byte that is not
/// part of valid UTF-8 (a raw C1 byte among them) as \xNN; the characters
/// U+0080-U+009F (C1), the bidi controls (U+061C, U+200E, U+200F,
/// U+202A-U+202E, U+2066-U+2069) and the line and paragraph separators
/// (U+2028, U+2029) as \uNNNN. Every other character, "café" or CJK, is
/// itself. One-to-one: the original can be read back.
std::string printable(std::string_view text);

/// Whether printable(text) would change anything but backslashes: whether
/// `text` holds a byte or character that must not reach a terminal or log.
bool needs_escaping(std::string_view text);

/// `text` as one word a POSIX shell reads back exactly, and safe to print:
/// bare when it is plainly a word, else in single quotes ('\'' for a
/// quote), or, when it holds what printable() escapes, in bash's $'...'
/// with those bytes as \xNN. For commands pfd shows to be pasted or read.
std::string shell_word(std::string_view text);

/// printable(clipped(s, max)) in single quotes: 'argv0', for a client's
/// string inside a message or a log line.
std::string quote(std::string_view s, std::size_t max = quoted_max);

} // namespace pfd
