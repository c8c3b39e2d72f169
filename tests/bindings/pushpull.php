<?php
// pushpull.php ENDPOINT COUNT - php-zmq (Debian php-zmq) as a user writes
// it: COUNT messages of 100 B and COUNT of 1 MiB over a PUSH bound to
// ENDPOINT and a PULL connected to it, each received and compared. PHP
// loads the extension with RTLD_DEEPBIND; ZMQSocket::send copies the
// string into zmq_msg_init_size's buffer and calls zmq_sendmsg. Prints its
// own counts for the test to hold zcshim's against.
$endpoint = $argv[1];
$count = (int)$argv[2];
$sizes = [100, 1048576];
$sent = [100 => 0, 1048576 => 0];
$received = 0;
$bad = 0;

$ctx = new ZMQContext(1, false);
$push = new ZMQSocket($ctx, ZMQ::SOCKET_PUSH);
$pull = new ZMQSocket($ctx, ZMQ::SOCKET_PULL);
$push->bind($endpoint);
$pull->connect($endpoint);
for ($i = 0; $i < $count; $i++) {
    foreach ($sizes as $size) {
        $msg = str_repeat(chr(($i + $size) % 256), $size);
        $push->send($msg);
        $sent[$size]++;
        $got = $pull->recv();
        if ($got === $msg) {
            $received++;
        } else {
            $bad++;
        }
    }
}
unset($push, $pull, $ctx); // non-persistent: zmq_close, then the context goes
printf("sent_small=%d sent_large=%d received=%d bad=%d\n", $sent[100], $sent[1048576],
       $received, $bad);
exit($bad ? 1 : 0);
