/*
 * zcearly - a program linked with a library that uses ZeroMQ from its
 * constructor (zcearlylib.c), before a preloaded shim's constructor runs.
 * Prints what that constructor saw and exits 0 if every message arrived
 * and every buffer was freed once.
 */
#include <stdio.h>

#include "zcearly.h"

int main(void)
{
	const struct zcearly_seen *s = zcearly_seen();
	printf("sent=%ld received=%ld ffns=%ld ffn_in_send=%ld\n", s->sent, s->received,
	       s->ffns, s->ffn_in_send);
	return s->sent == ZCEARLY_COUNT && s->received == ZCEARLY_COUNT &&
			       s->ffns == ZCEARLY_COUNT ? 0 : 1;
}
