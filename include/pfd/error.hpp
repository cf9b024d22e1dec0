#pragma once
// The few error types of pfd and the stable error codes of the wire protocol.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pfd {

/// Stable error codes of protocol version 1 (spec §3). Their spelling is part
/// of the contract: to_string() gives the wire form.
enum class errc {
    bad_request,
    too_large,
    fd_mismatch,
    denied,
    busy,
    limit,
    not_found,
    not_executable,
    bad_cwd,
    spawn_failed,
    version_mismatch,
    shutting_down,
};

std::string_view to_string(errc code) noexcept;
std::optional<errc> errc_from_string(std::string_view name) noexcept;

/// A request or event that breaks the protocol; carries the code to answer with.
class protocol_error : public std::runtime_error {
public:
    protocol_error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
    errc code() const noexcept { return code_; }

private:
    errc code_;
};

/// Throws std::system_error for errno with "<what>: <strerror>" as message.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int error);

} // namespace pfd
