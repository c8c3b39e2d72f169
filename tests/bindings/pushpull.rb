# pushpull.rb ENDPOINT COUNT - ffi-rzmq (Debian ruby-ffi-rzmq) as a user
# writes it: COUNT messages of 100 B and COUNT of 1 MiB over a PUSH bound
# to ENDPOINT and a PULL connected to it, each received and compared.
# send_string copies the string into a malloc'd buffer handed to libzmq
# with zmq_msg_init_data (ffn: libc free), then zmq_sendmsg. Prints its
# own counts for the test to hold zcshim's against.
require 'ffi-rzmq'

endpoint = ARGV[0]
count = Integer(ARGV[1])
sizes = [100, 1_048_576]
sent = Hash.new(0)
received = 0
bad = 0

ctx = ZMQ::Context.new
push = ctx.socket(ZMQ::PUSH)
pull = ctx.socket(ZMQ::PULL)
bad += 1 unless ZMQ::Util.resultcode_ok?(push.bind(endpoint))
bad += 1 unless ZMQ::Util.resultcode_ok?(pull.connect(endpoint))
count.times do |i|
  sizes.each do |size|
    msg = ((i + size) % 256).chr * size
    if ZMQ::Util.resultcode_ok?(push.send_string(msg))
      sent[size] += 1
    else
      bad += 1
    end
    got = String.new
    if ZMQ::Util.resultcode_ok?(pull.recv_string(got)) && got == msg
      received += 1
    else
      bad += 1
    end
  end
end
push.close
pull.close
ctx.terminate
puts "sent_small=#{sent[100]} sent_large=#{sent[1_048_576]} received=#{received} bad=#{bad}"
exit(bad.zero? ? 0 : 1)
