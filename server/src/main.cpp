#include "app/cli.hpp"

int main(int argc, char** argv) { return market::app::RunCli(argc, argv); }
