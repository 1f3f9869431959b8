// The embedded EPMD server with real erl nodes (`-start_epmd false`, ERL_EPMD_PORT) and OTP's own
// `epmd -names` client, for every OTP in the matrix (named in each test). Every erl is stopped by
// pid; every server is closed in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { ErlNode, freePort, otpMatrix, withTimeout, type Otp } from '../support/otp.js';
import { startEpmdServer, type EpmdServer, type RegisteredNode, type UnregisterInfo } from '../../src/epmd/server.js';
import { names, portPlease } from '../../src/epmd/client.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const COOKIE = 'epmdservercookie';

async function startErl(otp: Otp, alive: string, epmdPort: number, distPort?: number): Promise<{ node: ErlNode; distPort: number }> {
  const port = distPort ?? (await freePort());
  const node = await ErlNode.start(otp, {
    name: `${alive}@${HOST}`,
    cookie: COOKIE,
    epmdPort,
    args: ['-start_epmd', 'false', '-kernel', 'inet_dist_listen_min', String(port), 'inet_dist_listen_max', String(port)],
  });
  return { node, distPort: port };
}

/** The next 'register'/'unregister' event for `name` (bounded wait). */
function nextEvent(s: EpmdServer, kind: 'register', name: string): Promise<RegisteredNode>;
function nextEvent(s: EpmdServer, kind: 'unregister', name: string): Promise<UnregisterInfo>;
function nextEvent(s: EpmdServer, kind: 'register' | 'unregister', name: string): Promise<RegisteredNode | UnregisterInfo> {
  return withTimeout(
    new Promise((resolve) => {
      const on = (x: RegisteredNode | UnregisterInfo) => {
        const n = 'node' in x ? x.node : x;
        if (n.name !== name) return;
        s.off(kind, on);
        resolve(x);
      };
      s.on(kind, on);
    }),
    20_000,
    `${kind} ${name}`,
  );
}

/** Bytes that are no EPMD request; the server must close the connection and carry on. */
function sendGarbage(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ port, host: HOST }, () => s.write(bytes));
    s.on('error', () => {});
    s.on('close', () => resolve());
    s.setTimeout(5000, () => s.destroy());
  });
}

for (const otp of otpMatrix()) {
  test(`${otp.label}: two erl nodes register with the embedded EPMD, ping each other, and epmd -names lists them`, async () => {
    const server = await startEpmdServer({ port: 0, address: HOST });
    const started: ErlNode[] = [];
    try {
      const aReg = nextEvent(server, 'register', 'a');
      const a = await startErl(otp, 'a', server.port);
      started.push(a.node);
      const b = await startErl(otp, 'b', server.port);
      started.push(b.node);
      assert.equal((await aReg).port, a.distPort);

      assert.equal(await a.node.evalText(`net_adm:ping('b@${HOST}')`), 'pong');
      assert.equal(await b.node.evalText(`lists:member('a@${HOST}', nodes())`), 'true');

      const { stdout } = await run('epmd', ['-port', String(server.port), '-names'], { timeout: 10_000 });
      assert.equal(stdout, `epmd: up and running on port ${server.port} with data:\nname b at port ${b.distPort}\nname a at port ${a.distPort}\n`);
      assert.deepEqual(await names(HOST, { port: server.port }), [
        { name: 'b', port: b.distPort },
        { name: 'a', port: a.distPort },
      ]);
      assert.match(await a.node.evalText('net_adm:names()'), new RegExp(`\\{"b",${b.distPort}\\}`));
      const p = await portPlease('a', HOST, { port: server.port });
      assert.equal(p.port, a.distPort);
      assert.equal(p.nodeType, 77);

      // The creation the node uses is the one the server handed out (32-bit, HighestVersion 6).
      for (const [n, alive] of [[a.node, 'a'], [b.node, 'b']] as const) {
        const creation = Number(await n.evalText('erlang:system_info(creation)'));
        assert.equal(creation, server.nodes().find((x) => x.name === alive)?.creation);
        assert.ok(creation > 3);
      }
    } finally {
      for (const n of started) await n.stop();
      await server.close();
    }
  });

  test(`${otp.label}: a restarted node registers again with a new creation; a killed node's name is freed`, async () => {
    const server = await startEpmdServer({ port: 0, address: HOST });
    const started: ErlNode[] = [];
    try {
      const a = await startErl(otp, 'a', server.port);
      started.push(a.node);
      let b = await startErl(otp, 'b', server.port);
      started.push(b.node);
      const firstCreation = server.nodes().find((n) => n.name === 'b')!.creation;
      assert.equal(await a.node.evalText(`net_adm:ping('b@${HOST}')`), 'pong');

      // Restart b: its name is freed when it stops, and it comes back with creation + 1.
      const gone = nextEvent(server, 'unregister', 'b');
      await b.node.stop();
      assert.equal((await gone).reason, 'closed');
      assert.deepEqual((await names(HOST, { port: server.port })).map((n) => n.name), ['a']);
      const back = nextEvent(server, 'register', 'b');
      b = await startErl(otp, 'b', server.port, b.distPort);
      started.push(b.node);
      const reg = await back;
      assert.equal(reg.creation, firstCreation + 1);
      assert.equal(Number(await b.node.evalText('erlang:system_info(creation)')), reg.creation);
      assert.equal(await b.node.evalText(`net_adm:ping('a@${HOST}')`), 'pong');

      // Kill a by pid (no goodbye): the server sees the socket close and frees the name.
      const killed = nextEvent(server, 'unregister', 'a');
      process.kill(a.node.pid, 'SIGKILL');
      await killed;
      assert.deepEqual((await names(HOST, { port: server.port })).map((n) => n.name), ['b']);
      assert.equal(await b.node.evalText(`erl_epmd:port_please("a", {127,0,0,1})`), 'noport');
    } finally {
      for (const n of started) await n.stop();
      await server.close();
    }
  });

  test(`${otp.label}: malformed input closes only its own connection; registered nodes keep working`, async () => {
    const server = await startEpmdServer({ port: 0, address: HOST });
    const started: ErlNode[] = [];
    const bad: string[] = [];
    server.on('malformed', (m) => bad.push(m.error.code));
    try {
      const a = await startErl(otp, 'a', server.port);
      started.push(a.node);
      const b = await startErl(otp, 'b', server.port);
      started.push(b.node);
      await sendGarbage(server.port, Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')); // a TLS hello
      await sendGarbage(server.port, Buffer.from([0x00, 0x00]));
      await sendGarbage(server.port, Buffer.from([0x00, 0x02, 0x7a, 0x00]));
      await sendGarbage(server.port, Buffer.from([0x00, 0x01, 0x6e, 0x6e, 0x6e]));
      assert.deepEqual(bad, ['BEAM_ERR_EPMD_MALFORMED', 'BEAM_ERR_EPMD_MALFORMED', 'BEAM_ERR_EPMD_MALFORMED', 'BEAM_ERR_EPMD_MALFORMED']);
      assert.equal(server.nodes().length, 2);
      assert.equal(await a.node.evalText(`net_adm:ping('b@${HOST}')`), 'pong');
      // A second erl claiming a registered name is refused (ALIVE2 result 1: OTP gives up on
      // distribution) and a stays registered.
      const clash = await ErlNode.start(otp, { cookie: COOKIE, epmdPort: server.port, args: ['-start_epmd', 'false'] });
      started.push(clash);
      const r = await clash.evalText(`net_kernel:start(['a@${HOST}', longnames])`);
      assert.match(r, /^\{error,.*nodistribution/);
      assert.deepEqual(server.nodes().map((n) => n.name).sort(), ['a', 'b']);
    } finally {
      for (const n of started) await n.stop();
      await server.close();
    }
  });
}
