#pragma once

#include <string_view>

namespace pfd {

/// The release version ("0.1.0").
std::string_view version() noexcept;

/// Identifies this exact build (git describe, or the version outside git):
/// a daemon and a client with different build ids are different programs.
std::string_view build_id() noexcept;

} // namespace pfd
