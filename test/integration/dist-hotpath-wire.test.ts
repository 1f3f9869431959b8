// The distribution header codec against real erl nodes, below the Connection class: we dial erl
// with DIST_HDR_ATOM_CACHE and FRAGMENTS, keep OTP's raw frames, and decode them with our codec.
// Every OTP of the matrix: headers with new then cached refs, more atoms than the 2048-slot cache,
// long atoms, and a 10 MB message fragmented both ways.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writer } from '../../src/etf/index.js';
import { atom, Pid, Tuple, tuple, type Term } from '../../src/etf/types.js';
import { portPlease } from '../../src/epmd/client.js';
import { decodeDistHeader, distHeaderCodec, newAtomCacheSlots, type DistHeaderCodec } from '../../src/dist/protocol/dist-header.js';
import { FrameSender } from '../../src/dist/net/frame-sender.js';
import { DFLAG, ourFlags } from '../../src/dist/protocol/flags.js';
import { FrameReader, TICK_FRAME, type FrameBody } from '../../src/dist/protocol/framing.js';
import { handshakeWeStarted } from '../../src/dist/net/handshake.js';
import { ErlNode, otpMatrix, startEpmd, withTimeout, type Epmd } from '../support/otp.js';

const COOKIE = 'beamnode_hotpath_cookie';
const HOT_FLAGS = DFLAG.DIST_HDR_ATOM_CACHE | DFLAG.FRAGMENTS;

/** Our end of one connection, with the hot-path codec and nothing else (no Connection class). */
class RawPeer {
  readonly raw: Buffer[] = [];
  private readonly waiters: { pred: (b: FrameBody) => boolean; resolve: (b: FrameBody) => void }[] = [];
  private readonly inbox: FrameBody[] = [];
  readonly self: Pid;
  private failure: Error | undefined;

  private constructor(
    readonly socket: Socket,
    readonly codec: DistHeaderCodec,
    readonly sender: FrameSender,
    readonly name: string,
    creation: number,
    readonly flags: bigint,
    rest: Buffer,
  ) {
    this.self = new Pid(atom(name), 1, 0, creation);
    const reader = new FrameReader(4);
    const onFrame = (f: Buffer) => {
      if (f.length === 0) {
        this.sender.frame(TICK_FRAME, true);
        return;
      }
      this.raw.push(Buffer.from(f));
      const body = this.codec.decodeFrame(f);
      if (!body) return;
      const i = this.waiters.findIndex((w) => w.pred(body));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(body);
      else this.inbox.push(body);
    };
    socket.on('data', (c: Buffer) => {
      try {
        reader.push(c, onFrame);
      } catch (e) {
        this.failure = e as Error;
        socket.destroy();
      }
    });
    if (rest.length) reader.push(rest, onFrame);
    socket.resume();
  }

  static async dial(erlName: string, epmdPort: number, name: string): Promise<RawPeer> {
    const { port } = await portPlease(erlName.split('@')[0], '127.0.0.1', { port: epmdPort });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
    const creation = 0x1234;
    const hs = await handshakeWeStarted(socket, { name, cookie: COOKIE, creation, flags: ourFlags({ add: HOT_FLAGS }) }, erlName);
    const codec = distHeaderCodec({
      atomCache: (hs.flags & DFLAG.DIST_HDR_ATOM_CACHE) !== 0n,
      fragments: (hs.flags & DFLAG.FRAGMENTS) !== 0n,
    });
    return new RawPeer(socket, codec, new FrameSender(socket), name, creation, hs.flags, hs.rest);
  }

  send(control: Term, message?: Term): void {
    const w = new Writer();
    this.codec.encodeFrame(w, control, message);
    const frame = w.take();
    const parts = this.codec.splitFrame(frame);
    if (parts) this.sender.fragments(parts, frame.length);
    else this.sender.frame(frame);
  }

  /** A reg_send from our pid to a registered erl process. */
  regSend(to: string, message: Term): void {
    this.send(tuple(6, this.self, atom(''), atom(to)), message);
  }

  next(pred: (b: FrameBody) => boolean = () => true, ms = 20_000): Promise<FrameBody> {
    if (this.failure) return Promise.reject(this.failure);
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return withTimeout(new Promise((resolve) => this.waiters.push({ pred, resolve })), ms, 'frame from erl');
  }

  close(): void {
    this.sender.close();
    this.codec.close();
    this.socket.destroy();
  }
}

const ECHO = `register(echo, spawn(fun L() -> receive {From, M} -> From ! M, L(); stop -> ok end end)), ok`;

for (const otp of otpMatrix()) {
  describe(`dist hot path (raw codec) against ${otp.label}`, () => {
    let epmd: Epmd;
    let e: ErlNode;
    let n = 0;
    const peers: RawPeer[] = [];
    const erlName = `hp${otp.release}@127.0.0.1`;

    before(async () => {
      epmd = await startEpmd();
      e = await ErlNode.start(otp, { name: erlName, cookie: COOKIE, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
      assert.equal(await e.evalText(ECHO), 'ok');
    });
    after(async () => {
      for (const p of peers) p.close();
      await e?.stop();
      await epmd?.stop();
    });
    const peer = async (): Promise<RawPeer> => {
      const p = await RawPeer.dial(erlName, epmd.port, `js${++n}@127.0.0.1`);
      peers.push(p);
      return p;
    };

    test(`${otp.label}: both flags negotiated; OTP's headers have new refs, then the same refs cached (captured bytes)`, async (t) => {
      const p = await peer();
      assert.equal(p.flags & HOT_FLAGS, HOT_FLAGS);
      p.regSend('echo', tuple(p.self, tuple(atom('hello'), atom('world'))));
      const first = await p.next();
      assert.deepEqual(first.message, tuple(atom('hello'), atom('world')));
      p.regSend('echo', tuple(p.self, tuple(atom('hello'), atom('world'))));
      await p.next();
      const [f1, f2] = p.raw;
      t.diagnostic(`first frame from ${otp.label}: ${f1.toString('hex')}`);
      t.diagnostic(`second frame: ${f2.toString('hex')}`);
      assert.deepEqual([f1[0], f1[1]], [131, 68], 'a 131,68 header, never 112');
      // Replay both frames through a fresh receive cache: the first fills it, the second only refers.
      const cache = newAtomCacheSlots();
      const h1 = decodeDistHeader(f1, 0, cache);
      const h2 = decodeDistHeader(f2, 0, cache);
      assert.ok(h1.kind === 'normal' && h2.kind === 'normal');
      const names = (h1.kind === 'normal' ? h1.refs : []).map((a) => a.name);
      for (const want of [erlName, p.name, 'hello', 'world']) assert.ok(names.includes(want), `${want} in ${names.join(',')}`);
      const isNew = (f: Buffer, i: number) => ((f[3 + (i >> 1)] >> ((i & 1) * 4)) & 8) !== 0;
      assert.ok(names.every((_, i) => isNew(f1, i)), 'all new in the first header');
      assert.ok(names.every((_, i) => !isNew(f2, i)), 'all cached in the second');
      assert.ok(f2.length < f1.length);
    });

    test(`${otp.label}: 3000 distinct atoms each way wrap both 2048-slot caches; long atoms`, async () => {
      const p = await peer();
      const long = [atom('ä'.repeat(255)), atom('x'.repeat(255)), atom('€'.repeat(255))];
      for (let m = 0; m < 30; m++) {
        const atoms = Array.from({ length: 100 }, (_, i) => atom(`js_atom_${m}_${i}`));
        const msg = tuple(...atoms, ...long, m);
        p.regSend('echo', tuple(p.self, msg));
        const back = await p.next();
        assert.deepEqual(back.message, msg);
      }
    });

    test(`${otp.label}: erl sends 3000 of its own atoms, and long atoms, in 30 messages`, async () => {
      const p = await peer();
      // Tell erl our pid through the echo process: it learns it from the message.
      p.regSend('echo', tuple(p.self, atom('ping')));
      await p.next();
      await e.evalText(`register(blast, spawn(fun() -> receive {go, To} -> [To ! list_to_tuple([list_to_atom("erl_atom_" ++ integer_to_list(M) ++ "_" ++ integer_to_list(I)) || I <- lists:seq(1, 100)] ++ [list_to_atom(lists:duplicate(255, 246)), M]) || M <- lists:seq(1, 30)] end end)), ok`);
      p.regSend('blast', tuple(atom('go'), p.self));
      for (let m = 1; m <= 30; m++) {
        const b = await p.next();
        const t = b.message as Tuple;
        assert.ok(t instanceof Tuple);
        assert.equal(t.length, 102);
        assert.equal(t.at(0), atom(`erl_atom_${m}_1`));
        assert.equal(t.at(99), atom(`erl_atom_${m}_100`));
        assert.equal(t.at(100), atom('ö'.repeat(255)));
        assert.equal(t.at(101), m);
      }
    });

    test(`${otp.label}: a 10 MB message each way, in 64 KiB fragments`, async () => {
      const p = await peer();
      const big = Buffer.alloc(10 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
      const before = p.raw.length;
      p.regSend('echo', tuple(p.self, tuple(atom('big'), big)));
      const back = await p.next(() => true, 60_000);
      assert.ok(back.message instanceof Tuple);
      assert.equal(back.message.at(0), atom('big'));
      assert.ok(Buffer.compare(back.message.at(1) as Buffer, big) === 0, 'same 10 MB back');
      const tags = p.raw.slice(before).map((f) => f[1]);
      assert.equal(tags[0], 69, 'OTP fragments its echo');
      assert.ok(tags.filter((x) => x === 70).length >= 150, `continuations: ${tags.filter((x) => x === 70).length}`);
      assert.equal(p.codec.assembler.pendingBytes, 0);
    });
  });
}
