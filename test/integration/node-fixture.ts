/**
 * Shared set-up for the Node interop tests: a private epmd, a real erl node with a helper module
 * (a gen_server, a message collector, a random-term generator), and our JS node, all on loopback.
 * Everything started here is stopped by its pid in `stop()`.
 */
import { spawn } from 'node:child_process';
import { Node, type NodeStartOptions } from '../../src/dist/node/node.js';
import { ErlNode, startEpmd, withTimeout, writeErlFiles, type Epmd, type Otp } from '../support/otp.js';

/** The erl side's helper module: compiled into every erl node the tests start. */
export const PEER_MODULE = String.raw`
-module(jsnode_peer).
-behaviour(gen_server).
-export([start/1, init/1, handle_call/3, handle_cast/2, handle_info/2]).
-export([collector/1, collected/1, wait_for/3, gen_term/1, echo_check/3]).

start(Name) -> gen_server:start({local, Name}, ?MODULE, [], []).
init([]) -> {ok, undefined}.
handle_call(ping, _From, S) -> {reply, pong, S};
handle_call({echo, X}, _From, S) -> {reply, X, S};
handle_call({sleep, Ms}, _From, S) -> timer:sleep(Ms), {reply, slept, S};
handle_call(crash, _From, _S) -> exit(crashed_on_purpose);
handle_call(get, _From, S) -> {reply, S, S}.
handle_cast({put, X}, _S) -> {noreply, X}.
handle_info(_, S) -> {noreply, S}.

%% A registered process that traps exits and keeps every message it gets. Commands:
%% {'$link', P}, {'$unlink', P}, {'$monitor', T}, {'$exit', Reason}, {'$send', Dest, Msg}.
collector(Name) ->
    Parent = self(),
    Pid = spawn(fun() ->
        register(Name, self()),
        process_flag(trap_exit, true),
        Parent ! {collector_ready, self()},
        collect([])
    end),
    receive {collector_ready, Pid} -> Pid after 5000 -> error(collector_timeout) end.

collect(Acc) ->
    receive
        {'$collected', From} -> From ! {'$collected', self(), lists:reverse(Acc)}, collect(Acc);
        {'$link', P} -> link(P), collect(Acc);
        {'$unlink', P} -> unlink(P), collect(Acc);
        {'$monitor', T} -> Ref = erlang:monitor(process, T), collect([{monitoring, Ref} | Acc]);
        {'$exit', Reason} -> exit(Reason);
        {'$send', Dest, Msg} -> Dest ! Msg, collect(Acc);
        Other -> collect([Other | Acc])
    end.

collected(Name) ->
    Name ! {'$collected', self()},
    receive {'$collected', _, L} -> L after 5000 -> error(collected_timeout) end.

%% The first collected message Pred accepts, polling every 20 ms for at most Ms.
wait_for(Name, Pred, Ms) when Ms =< 0 ->
    {timeout, collected(Name)};
wait_for(Name, Pred, Ms) ->
    case [M || M <- collected(Name), Pred(M)] of
        [M | _] -> M;
        [] -> timer:sleep(20), wait_for(Name, Pred, Ms - 20)
    end.

%% A random term of every kind the distribution carries (depth-limited).
gen_term(0) -> leaf();
gen_term(D) ->
    case rand:uniform(6) of
        1 -> list_to_tuple([gen_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        2 -> [gen_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)];
        3 -> maps:from_list([{map_key(), gen_term(D - 1)} || _ <- lists:seq(1, rand:uniform(3) - 1)]);
        4 -> [gen_term(D - 1) | leaf()];
        _ -> leaf()
    end.

%% -0.0 as a map key does not survive a JS Map (it folds -0 into 0): see node-echo.test.ts.
map_key() ->
    case leaf() of
        K when is_float(K), K == 0 -> 0.5;
        K -> K
    end.

leaf() ->
    case rand:uniform(19) of
        1 -> rand:uniform(256) - 1;
        2 -> rand:uniform(1 bsl 31) - (1 bsl 30);
        3 -> (rand:uniform(1 bsl 62) - (1 bsl 61)) * 4097;
        4 -> -(1 bsl 200) + rand:uniform(1 bsl 60);
        5 -> (rand:uniform() - 0.5) * 1.0e6;
        6 -> float(rand:uniform(1000));
        7 -> lists:nth(rand:uniform(5), [a, 'B c', 'ĉaŭ', 'with\nline', '']);
        8 -> crypto:strong_rand_bytes(rand:uniform(40) - 1);
        9 -> <<(rand:uniform(7)):3>>;
        10 -> [rand:uniform(26) + 96 || _ <- lists:seq(1, rand:uniform(10))];
        11 -> self();
        12 -> make_ref();
        13 -> [];
        14 -> lists:nth(rand:uniform(2), [true, false]);
        15 -> fun lists:reverse/1;
        16 -> unicode:characters_to_binary("héllo ✓");
        17 -> #{};
        18 -> lists:nth(rand:uniform(4), [-0.0, 1.0e300, 5.0e-324, (1 bsl 64) - 1]);
        _ -> {}
    end.

%% Sends N random terms (seeded) to Dest as {self(), T}; each must come back as {echoed, T2}
%% with T2 =:= T. Returns {ok, N} or the first mismatch.
echo_check(Dest, N, Seed) ->
    rand:seed(exsss, {Seed, Seed * 7, Seed * 13}),
    echo_loop(Dest, N, 0).
echo_loop(_Dest, N, N) -> {ok, N};
echo_loop(Dest, N, I) ->
    T = gen_term(3),
    Dest ! {self(), T},
    receive
        {echoed, T2} when T2 =:= T -> echo_loop(Dest, N, I + 1);
        {echoed, T2} -> {mismatch, I, T, T2}
    after 5000 -> {timeout, I, T}
    end.
`;

export interface Peers {
  otp: Otp;
  epmd: Epmd;
  erl: ErlNode;
  erlName: string;
  node: Node;
  jsName: string;
  cookie: string;
  /** Starts one more erl node on the same epmd, with the helper module loaded (stopped by stop()). */
  extraErl(name: string, cookie?: string): Promise<ErlNode>;
  stop(): Promise<void>;
}

/** Loads the helper module into a running erl. */
export async function loadPeerModule(erl: ErlNode, otp: Otp): Promise<void> {
  const dir = writeErlFiles(otp, { 'jsnode_peer.erl': PEER_MODULE });
  try {
    const r = await erl.evalText(
      `{ok, Mod__, Bin__} = compile:file("${dir.erlPath}/jsnode_peer.erl", [binary, report]), code:load_binary(Mod__, "jsnode_peer.erl", Bin__)`,
    );
    if (!r.startsWith('{module,jsnode_peer}')) throw new Error(`cannot load jsnode_peer: ${r}`);
  } finally {
    dir.remove();
  }
}

let seq = 0;

/** epmd + erl (`erlAlive@127.0.0.1`) + our node (`jsAlive@127.0.0.1`), same cookie. */
export async function startPeers(otp: Otp, o: { erlAlive?: string; jsAlive?: string; node?: Partial<NodeStartOptions> } = {}): Promise<Peers> {
  const cookie = `cookie_${process.pid}_${++seq}`;
  const erlName = `${o.erlAlive ?? 'erl'}@127.0.0.1`;
  const jsName = `${o.jsAlive ?? 'js'}@127.0.0.1`;
  const epmd = await startEpmd();
  const extra: ErlNode[] = [];
  let erl: ErlNode | undefined;
  let node: Node | undefined;
  const stop = async () => {
    await node?.stop();
    for (const e of extra) await e.stop();
    await erl?.stop();
    await epmd.stop();
  };
  try {
    erl = await ErlNode.start(otp, { name: erlName, cookie, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
    await loadPeerModule(erl, otp);
    node = await Node.start({ name: jsName, cookie, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' }, ...o.node });
  } catch (e) {
    await stop();
    throw e;
  }
  const extraErl = async (name: string, c = cookie) => {
    const e = await ErlNode.start(otp, { name, cookie: c, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
    extra.push(e);
    await loadPeerModule(e, otp);
    return e;
  };
  return { otp, epmd, erl, erlName, node, jsName, cookie, extraErl, stop };
}

/** Runs `elixir --name … -e script` against our epmd; resolves with its stdout (rejects on failure). */
export function runElixir(epmdPort: number, name: string, cookie: string, script: string, ms = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('elixir', ['--name', name, '--cookie', cookie, '-e', script], {
      env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    withTimeout(done, ms, 'elixir').then(
      (code) => (code === 0 ? resolve(out) : reject(new Error(`elixir exited ${code}: ${err}${out}`))),
      (e: Error) => {
        child.kill('SIGKILL');
        reject(e);
      },
    );
  });
}
