/*
 * main.c: the lethe command. Everything after start-up lives in
 * runtime.c and the embedded Lua code under scripts/lethe/.
 */
#include "runtime.h"

int main(int argc, char **argv)
{
    return runtime_run(argc, argv);
}
