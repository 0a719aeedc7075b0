#pragma once

namespace market::app {

// Parses argv into one of the commands (serve, dev, migrate, routes, …) and runs it.
int RunCli(int argc, char** argv);

}  // namespace market::app
