// pushpull.cjs ENDPOINT COUNT - zeromq.js 6 (npm zeromq, libzmq 4.3.5 built
// into its addon.node, zmq_* exported) as a user writes it: COUNT Buffers
// of 100 B and COUNT of 1 MiB over a PUSH bound to ENDPOINT and a PULL
// connected to it, each received and compared. The addon copies Buffers of
// 128 B and less and sends larger ones, and every string, zero-copy. Prints
// its own counts. Not run by make test (npm is not a Debian package here):
// see tests/bindings/survey.sh.
const zmq = require("zeromq")

async function main() {
  const [endpoint, countArg] = process.argv.slice(2)
  const count = Number(countArg)
  const push = new zmq.Push()
  const pull = new zmq.Pull()
  await push.bind(endpoint)
  pull.connect(endpoint)
  let sentSmall = 0, sentLarge = 0, received = 0, bad = 0
  for (let i = 0; i < count; i++) {
    for (const size of [100, 1048576]) {
      const msg = Buffer.alloc(size, (i + size) % 256)
      await push.send(msg)
      if (size === 100) sentSmall++
      else sentLarge++
      const [got] = await pull.receive()
      if (got.equals(msg)) received++
      else bad++
    }
  }
  push.close()
  pull.close()
  console.log(`sent_small=${sentSmall} sent_large=${sentLarge} received=${received} bad=${bad}`)
  process.exitCode = bad ? 1 : 0
}

main()
