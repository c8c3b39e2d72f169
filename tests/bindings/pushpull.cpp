// pushpull.cpp ENDPOINT COUNT - cppzmq (Debian cppzmq-dev, header-only) as
// a user writes it: COUNT messages of 100 B and COUNT of 1 MiB over a PUSH
// bound to ENDPOINT and a PULL connected to it, each received and compared.
// socket_t::send(zmq::buffer(...)) is zmq_send, a copy; the calls are PLT
// calls from this program into libzmq.so.5. Prints its own counts for the
// test to hold zcshim's against.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <zmq.hpp>

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: zccppzmq ENDPOINT COUNT\n");
		return 2;
	}
	const std::string endpoint = argv[1];
	const int count = std::atoi(argv[2]);
	const size_t sizes[] = { 100, 1048576 };
	int sent[2] = { 0, 0 }, received = 0, bad = 0;
	{
		zmq::context_t ctx;
		zmq::socket_t push(ctx, zmq::socket_type::push);
		zmq::socket_t pull(ctx, zmq::socket_type::pull);
		push.bind(endpoint);
		pull.connect(endpoint);
		for (int i = 0; i < count; i++) {
			for (int k = 0; k < 2; k++) {
				std::string msg(sizes[k], static_cast<char>((i + sizes[k]) % 256));
				if (push.send(zmq::buffer(msg), zmq::send_flags::none))
					sent[k]++;
				else
					bad++;
				zmq::message_t got;
				if (pull.recv(got, zmq::recv_flags::none) && got.to_string() == msg)
					received++;
				else
					bad++;
			}
		}
	}
	std::printf("sent_small=%d sent_large=%d received=%d bad=%d\n", sent[0], sent[1],
		    received, bad);
	return bad ? 1 : 0;
}
