/*
 * zcctorplug - a plugin whose constructor calls libzmq: see zcctor race.
 */
#include <unistd.h>
#include <zmq.h>

extern volatile int zcctor_go; /* in zcctor, exported with -rdynamic */

__attribute__((constructor)) static void call_zmq_while_loading(void)
{
	zcctor_go = 1;  /* the other thread now makes the first zmq call ... */
	usleep(200000); /* ... and would sit in the shim's init */
	zmq_msg_t m;
	zmq_msg_init_data(&m, "x", 1, NULL, NULL);
	zmq_msg_close(&m);
}
