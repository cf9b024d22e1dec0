#pragma once
// The runs of client.hpp as Asio awaitables (C++20 coroutines), for a
// program that already runs an io_context: any number of commands at once
// on one thread.
//
//     asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//         auto result = co_await pfd::async_run_capture(daemon, {.argv = {"uname", "-r"}});
//         std::cout << result.out;
//     }, asio::detached);
//
// Errors are thrown as by the blocking calls. Cancelling the awaiting
// operation (asio's per-operation cancellation, `||` with a timer) closes
// the connection, and the daemon hangs up on the command (SIGHUP to its
// process group, a stop request to an applet) as when hostexec dies.
// run_options::forward_signals has no effect here.

#include "pfd/client.hpp"

#include <asio/awaitable.hpp>

namespace pfd {

asio::awaitable<exited_event> async_run(const client& daemon, command cmd, run_options options = {});

asio::awaitable<captured> async_run_capture(const client& daemon, command cmd, run_options options = {});

} // namespace pfd
