#include "app/cli.hpp"

namespace market::app {

int RunCli(int, char**) { return 0; }

}  // namespace market::app
