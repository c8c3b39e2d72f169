# pushpull.pl ENDPOINT COUNT - ZMQ::FFI (Debian libzmq-ffi-perl) as a user
# writes it: COUNT messages of 100 B and COUNT of 1 MiB over a PUSH bound
# to ENDPOINT and a PULL connected to it, each received and compared.
# FFI::Platypus finds every libzmq function with dlsym; send is zmq_send.
# Prints its own counts for the test to hold zcshim's against.
use strict;
use warnings;
use ZMQ::FFI qw(ZMQ_PUSH ZMQ_PULL);

my ($endpoint, $count) = @ARGV;
my @sizes = (100, 1048576);
my %sent = map { $_ => 0 } @sizes;
my ($received, $bad) = (0, 0);

my $ctx = ZMQ::FFI->new();
my $push = $ctx->socket(ZMQ_PUSH);
my $pull = $ctx->socket(ZMQ_PULL);
$push->bind($endpoint);
$pull->connect($endpoint);
for my $i (0 .. $count - 1) {
    for my $size (@sizes) {
        my $msg = chr(($i + $size) % 256) x $size;
        $push->send($msg);
        $sent{$size}++;
        my $got = $pull->recv();
        if (defined $got && $got eq $msg) { $received++ } else { $bad++ }
    }
}
$push->close();
$pull->close();
$ctx->destroy();
print "sent_small=$sent{100} sent_large=$sent{1048576} received=$received bad=$bad\n";
exit($bad ? 1 : 0);
