/* mailscand */
#include <stdio.h>

#include "config.h"
#include "log.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
