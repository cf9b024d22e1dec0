#pragma once
// One client connection: read the request with its descriptors, start the
// command, relay signals, report how it ended.

#include "pfd/server.hpp"
#include "session_registry.hpp"

#include <asio/awaitable.hpp>
#include <asio/local/stream_protocol.hpp>

#include <functional>
#include <memory>
#include <string>

namespace pfd {

/// Serves one connection to its end. Runs on the socket's (strand) executor;
/// never throws: failures become an `error` event for this client only.
/// What a session may ask of the daemon as a whole.
struct daemon_hooks {
    std::function<std::string()> reload;                      ///< "" when applied, else why not
    std::function<std::string()> status;                      ///< the `status` event line
    std::function<std::string()> restart;                     ///< "" when handed over, else why not
    std::function<void(std::string_view build)> client_build; ///< each exec's client build id
    std::function<void()> stop;                               ///< a graceful stop, as SIGTERM
};

/// `options` is the configuration as it was when the client connected.
asio::awaitable<void> serve_connection(asio::local::stream_protocol::socket socket,
                                       std::shared_ptr<const server_options> options, session_registry& registry,
                                       const daemon_hooks& hooks);

} // namespace pfd
