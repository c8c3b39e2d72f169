/*
 * zcstatic - libzmq linked statically into the executable, nothing of it
 * exported: no call can reach the shim, and the segment must say so.
 */
#include <stdio.h>

int zcplugin_run(int count);

int main(void)
{
	int bad = zcplugin_run(20);
	printf("%s\n", bad ? "failed" : "ok");
	return bad ? 1 : 0;
}
