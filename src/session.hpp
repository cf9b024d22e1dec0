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
/// `options` is the configuration as it was when the client connected;
/// `reload` re-reads it for the `reload` op ("" when done, else why not).
asio::awaitable<void> serve_connection(asio::local::stream_protocol::socket socket,
                                       std::shared_ptr<const server_options> options, session_registry& registry,
                                       const std::function<std::string()>& reload);

} // namespace pfd
