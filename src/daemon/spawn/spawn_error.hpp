#pragma once
// Why a command could not be started, with the protocol code it maps to:
// thrown by the program's lookup and by the spawner alike, so that neither
// needs the other's header.

#include "pfd/error.hpp"

#include <stdexcept>
#include <string>

namespace pfd {

class spawn_error : public std::runtime_error {
public:
    spawn_error(errc code, int error, const std::string& message)
        : std::runtime_error(message), code_(code), errno_(error)
    {
    }
    errc code() const noexcept { return code_; }
    int error() const noexcept { return errno_; }

private:
    errc code_;
    int errno_;
};

} // namespace pfd
