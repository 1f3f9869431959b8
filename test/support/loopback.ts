// A connected TCP socket pair over loopback, for tests that drive both ends of a connection.
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';

/** `a` connected to `b` on 127.0.0.1 (a's connect done); `close()` destroys both and closes the listener. */
export async function loopbackPair(): Promise<{ a: Socket; b: Socket; close(): Promise<void> }> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => (accepted = r));
  const server = createServer((s) => accepted(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const b = await got;
  await new Promise<void>((r) => (a.readyState === 'open' ? r() : a.once('connect', () => r())));
  return {
    a,
    b,
    close: async () => {
      a.destroy();
      b.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
