#pragma once
// How the kernel would run a found program, worked out in the daemon so
// that every file that runs is one it opened and judged. For a script the
// child executes the interpreter its "#!" line names, opened here, with the
// argument list the kernel would give it: [interpreter, its optional
// argument, the script's name, arguments...]. $0 is then the name the script
// was found by, as after execve of that name. Handing the kernel the
// script's descriptor instead would name it /dev/fd/N (what $0, dirname "$0"
// and error messages show), need that descriptor left open in the command,
// and read the "#!" line a second time, after the check.

#include "program_lookup.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pfd {

struct program_launch {
    /// The program the command names, then each interpreter in turn: the
    /// last is the file executed.
    std::vector<found_program> chain;
    /// What the executed file gets in place of the command's argv[0]
    /// (followed by the command's argv[1..]): for a script, as the kernel
    /// would make it, [interpreter, its argument, the script's name] (nested
    /// for an interpreter that is itself a script); empty: argv as it is.
    std::vector<std::string> leading;
    /// Set when the program's name is one only root can make mean another
    /// file (an absolute name in a directory root alone controls, leading to
    /// a file in such a directory): the child executes this name with the
    /// command's own argument list, as execve(2) always did,
    /// and the kernel sees the same file as the check did. Everything stays
    /// as users know it: the process's name (comm: `pgrep`, `ps -e`,
    /// `killall`; a script's own name, not its interpreter's; kernels before
    /// 6.14 name a process executed through a descriptor by its number) and
    /// AT_EXECFN. Empty: executed() is run by its descriptor.
    std::string stable_name;
    /// Set when the program is neither an ELF file nor a script: /bin/sh,
    /// run with [/bin/sh, the program's name, argv[1..]] when the kernel
    /// answers ENOEXEC, as execvpe(3) does (a format of binfmt_misc still
    /// runs as the kernel knows it).
    std::optional<found_program> shell;

    const found_program& executed() const { return chain.back(); }
};

/// The launch of `program`: interpreters are opened as the kernel would, an
/// absolute name from the root here, a relative one from the command's
/// directory `dir`. Throws spawn_error: not_found or not_executable (an
/// interpreter that is missing or cannot run, or too deep a chain).
/// `judged`: [policy] will judge the chain, so it is opened even where the
/// kernel will run the program by its stable name.
program_launch launch_of(found_program program, int dir, const std::string& dir_name, bool judged);

/// What a "#!" line says: the interpreter and its one optional argument,
/// split as the kernel does (at most the first 256 bytes; spaces and tabs
/// separate; the argument runs to the end of the line, trimmed). Nothing
/// when `head` is not a script the kernel would run.
struct shebang {
    std::string interpreter;
    std::optional<std::string> argument;
};
std::optional<shebang> parse_shebang(std::string_view head);

} // namespace pfd
