// The OTP matrix itself: every installation otpMatrix() finds (the host's erl, and the chroot
// roots from .ci/prepare-otp-roots when running as root) starts a distributed node, registers it
// with one shared epmd on loopback, and reaches the host's node with net_adm:ping both ways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ErlNode, hostOtp, otpMatrix, startEpmd, type Epmd, type Otp } from '../support/otp.js';

const matrix = otpMatrix();
const host = hostOtp();
const cookie = 'matrix_' + randomBytes(8).toString('hex');
let epmd: Epmd;
let seq = 0;

before(async () => {
  epmd = await startEpmd();
});
after(async () => {
  await epmd?.stop();
});

function nodeName(otp: Otp, role: string): string {
  return `${role}${otp.release}_${otp.root ? 'chroot' : 'host'}_${process.pid}_${seq++}@127.0.0.1`;
}

async function withNodes<T>(fn: (started: ErlNode[]) => Promise<T>): Promise<T> {
  const started: ErlNode[] = [];
  try {
    return await fn(started);
  } finally {
    for (const n of started) await n.stop();
  }
}

describe('OTP matrix', () => {
  test(`the matrix holds the host's OTP ${host.release}`, () => {
    assert.ok(matrix.some((o) => !o.root), 'host erl missing from the matrix');
    assert.match(host.release, /^\d+$/);
  });

  for (const otp of matrix) {
    test(`${otp.label}: starts a distributed node registered with epmd`, async () => {
      await withNodes(async (started) => {
        const name = nodeName(otp, 'solo');
        const node = await ErlNode.start(otp, { name, cookie, epmdPort: epmd.port });
        started.push(node);
        assert.equal(await node.evalText('erlang:system_info(otp_release)'), JSON.stringify(otp.release));
        assert.equal(await node.evalText('node()'), `'${name}'`);
        assert.equal(await node.evalText('is_alive()'), 'true');
        // The node registered with *our* epmd (ERL_EPMD_PORT reached erl, also through chroot).
        const names = await node.evalText('{ok, Ns} = erl_epmd:names("127.0.0.1"), [N || {N, _} <- Ns]');
        assert.ok(names.includes(`"${name.split('@')[0]}"`), `epmd names: ${names}`);
      });
    });

    test(`${otp.label} and host OTP ${host.release}: net_adm:ping both ways through one epmd`, async () => {
      await withNodes(async (started) => {
        const hName = nodeName(host, 'h');
        const oName = nodeName(otp, 'o');
        const h = await ErlNode.start(host, { name: hName, cookie, epmdPort: epmd.port });
        started.push(h);
        const o = await ErlNode.start(otp, { name: oName, cookie, epmdPort: epmd.port });
        started.push(o);
        assert.equal(await o.evalText(`net_adm:ping('${hName}')`), 'pong');
        assert.equal(await h.evalText(`net_adm:ping('${oName}')`), 'pong');
        // The peer really is the other installation: ask it for its release over distribution.
        assert.equal(
          await h.evalText(`rpc:call('${oName}', erlang, system_info, [otp_release])`),
          JSON.stringify(otp.release),
        );
        assert.equal(
          await o.evalText(`rpc:call('${hName}', erlang, system_info, [otp_release])`),
          JSON.stringify(host.release),
        );
        assert.match(await h.evalText('nodes()'), new RegExp(oName.replace(/[.@]/g, '\\$&')));
      });
    });

    test(`${otp.label}: a wrong cookie is refused (pang)`, async () => {
      await withNodes(async (started) => {
        const hName = nodeName(host, 'hc');
        const oName = nodeName(otp, 'oc');
        const h = await ErlNode.start(host, { name: hName, cookie, epmdPort: epmd.port });
        started.push(h);
        const o = await ErlNode.start(otp, { name: oName, cookie: cookie + 'x', epmdPort: epmd.port });
        started.push(o);
        assert.equal(await o.evalText(`net_adm:ping('${hName}')`), 'pang');
      });
    });
  }
});
