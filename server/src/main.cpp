#include <csignal>

#include "app/cli.hpp"

int main(int argc, char** argv) {
  // A write to a socket whose peer is gone (a Redis killed mid-command: hiredis writes with
  // write(2)) must fail with EPIPE where it happens, not end the process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  return market::app::RunCli(argc, argv);
}
