%% The BEAM side of benchmarks/dist/run.mjs: a registered `sink` on each erl node that counts,
%% echoes sizes, and runs the BEAM→BEAM baselines (timed here, in microseconds).
-module(bench_dist).
-export([start/0]).

start() ->
    Pid = spawn(fun() -> loop(<<>>) end),
    register(sink, Pid),
    ok.

%% Big: the binary `bigsend` sends, made beforehand by `prepare` (binary:copy of 10 MB takes
%% 50-130 ms here: it must not be inside the timed part).
loop(Big) ->
    receive
        {prepare, Size, From} ->
            New = binary:copy(<<7>>, Size),
            From ! {prepared, Size},
            loop(New);
        {expect, From, N} ->
            count(N),
            From ! {sunk, node()};
        {big, From, Bin} ->
            From ! {got_big, byte_size(Bin)};
        {blast, To, N, Msg} ->
            blast(To, N, Msg);
        {bigsend, To} ->
            To ! {big, self(), Big};
        {rpc_bench, Node, K, From} ->
            _ = rpc:call(Node, erlang, node, []),
            From ! {rpc_times, [rpc_once(Node) || _ <- lists:seq(1, K)]};
        {blast_to_sink, Node, N, Msg, From} ->
            {sink, Node} ! {expect, self(), N},
            T0 = erlang:monotonic_time(microsecond),
            blast({sink, Node}, N, Msg),
            receive {sunk, _} -> ok end,
            From ! {blast_time, erlang:monotonic_time(microsecond) - T0};
        {big_to_sink, Node, Size, From} ->
            Bin = binary:copy(<<7>>, Size),
            T0 = erlang:monotonic_time(microsecond),
            {sink, Node} ! {big, self(), Bin},
            receive {got_big, Size} -> ok end,
            From ! {big_time, erlang:monotonic_time(microsecond) - T0};
        {memory, From} ->
            %% Collect every process first: the figure is otherwise mostly garbage.
            _ = [erlang:garbage_collect(P) || P <- processes()],
            From ! {memory, erlang:memory(total)}
    end,
    loop(Big).

count(0) -> ok;
count(N) -> receive {m, _} -> count(N - 1) end.

blast(_, 0, _) -> ok;
blast(To, N, Msg) -> To ! Msg, blast(To, N - 1, Msg).

rpc_once(Node) ->
    T0 = erlang:monotonic_time(nanosecond),
    Node = rpc:call(Node, erlang, node, []),
    erlang:monotonic_time(nanosecond) - T0.
