#pragma once
// The TOML configuration (spec §6): files read in order, later wins per key;
// an unknown key or a wrong type is an error naming the file, line and key.
// Every key is one row of config_keys() (config.cpp): a new key is a member
// with its default in settings.hpp, a row there, and a line in
// config/pfd.toml (a test holds the file to the defaults).

#include "pfd/settings.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

struct config {
    daemon_section daemon;
    discovery_section discovery;
    limits_section limits;
    exec_section exec;
    policy_section policy;
    container_section container;
};

/// "<file>:<line>: <what>", e.g. "/etc/pfd/config.toml:3: unknown key 'fdz' in [limits]; did you mean 'fds'?".
class config_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One value being read: its node, file and key, for messages (config.cpp).
class value_reader;

/// One key of the configuration and how its value is read into a config.
struct config_key {
    std::string_view section, name;
    void (*read)(const value_reader& value, config& cfg);
    /// Whether a project's .pfd.toml may set it: never what the client
    /// executes or whom it trusts (those only in the system and user files).
    bool in_project = true;
};

/// Every key pfd knows, section by section.
std::span<const config_key> config_keys() noexcept;

/// /etc/pfd/config.toml, then $XDG_CONFIG_HOME/pfd/config.toml (default
/// ~/.config). `etc` is a seam for tests.
std::vector<std::string> default_config_files(const std::string& etc = "/etc/pfd");

struct project_file;

/// Applies the files that exist in `files` in order, then `project` (a
/// honoured .pfd.toml, see project_trust.hpp), then `required` (which must
/// exist) if not empty. Throws config_error; with `left_out`, a file with
/// an error is left out instead, whole, and its error appended there.
config load_config(const std::vector<std::string>& files, const std::string& required = {},
                   const project_file* project = nullptr, std::vector<std::string>* left_out = nullptr);

/// Reads one file's text as if it were the file `name` (named in messages):
/// load_config's parser and checks without the file system. Throws
/// config_error. The fuzzer's entry (fuzz/config.cpp).
config load_config_text(std::string_view text, const std::string& name);

/// The project a .pfd.toml names: its `project` key, else its directory's
/// name. Throws config_error for a file that is no TOML.
std::string project_name(const project_file& file);

} // namespace pfd
