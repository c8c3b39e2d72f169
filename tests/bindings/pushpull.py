"""pushpull.py ENDPOINT COUNT - pyzmq (Debian python3-zmq) as a user writes
it: COUNT messages of 100 B and COUNT of 1 MiB over a PUSH bound to ENDPOINT
and a PULL connected to it, each received and compared; then COUNT of 1 MiB
sent with copy=False, pyzmq's zero-copy (for 64 KiB and up). send() copies
(zmq_msg_init_size, zmq_msg_send). Prints its own counts for the test to
hold zcshim's against."""
import sys

import zmq

endpoint, count = sys.argv[1], int(sys.argv[2])
sent = {"small": 0, "large": 0, "large_nocopy": 0}
received = bad = 0

ctx = zmq.Context()
push = ctx.socket(zmq.PUSH)
pull = ctx.socket(zmq.PULL)
push.bind(endpoint)
pull.connect(endpoint)
for i in range(count):
    for kind, size, copy in (("small", 100, True), ("large", 1048576, True),
                             ("large_nocopy", 1048576, False)):
        msg = bytes([(i + size + (not copy)) % 256]) * size
        push.send(msg, copy=copy)
        sent[kind] += 1
        if pull.recv() == msg:
            received += 1
        else:
            bad += 1
push.close()
pull.close()
ctx.term()
print("sent_small=%d sent_large=%d sent_large_nocopy=%d received=%d bad=%d"
      % (sent["small"], sent["large"], sent["large_nocopy"], received, bad))
sys.exit(1 if bad else 0)
