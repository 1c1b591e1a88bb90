#include <stdio.h>
int main(void) { puts("openledger-cli: not built yet"); return 1; }
