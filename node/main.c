#include <stdio.h>
int main(void) { puts("openledgerd: not built yet"); return 1; }
