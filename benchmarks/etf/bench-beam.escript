#!/usr/bin/env escript
%% -*- erlang -*-
%%! +sbwt none +sbwtdcpu none +sbwtdio none
%%
%% The BEAM's own baseline: times binary_to_term/1 and term_to_binary/2 (minor_version 2) on the
%% same corpus files the JS libraries read, with the same method as run.mjs: a warm-up, then
%% ROUNDS rounds of at least ROUND_MS each (whole batches of calls, the clock read once per batch,
%% a full garbage collection before each round), the median round's time per call. Prints one
%% JSON object per measurement on stdout.
%% (Scheduler busy-wait is off so an idle scheduler does not spin on the machine's other core.)
%%
%% Usage: escript bench-beam.escript WARMUP_MS ROUND_MS ROUNDS NAME=PATH...
-mode(compile).

main([WarmupMs, RoundMs, Rounds | Files]) when Files =/= [] ->
    Cfg = #{warmup_ms => list_to_integer(WarmupMs), round_ms => list_to_integer(RoundMs),
            rounds => list_to_integer(Rounds)},
    io:format("{\"otpRelease\": \"~s\", \"ertsVersion\": \"~s\"}~n",
              [erlang:system_info(otp_release), erlang:system_info(version)]),
    lists:foreach(fun(Arg) -> bench_file(Cfg, Arg) end, Files);
main(_) ->
    io:format(standard_error, "usage: bench-beam.escript WARMUP_MS ROUND_MS ROUNDS NAME=PATH...~n", []),
    halt(2).

bench_file(Cfg, Arg) ->
    [Name, Path] = string:split(Arg, "="),
    {ok, Bin} = file:read_file(Path),
    Term = binary_to_term(Bin),
    Encoded = term_to_binary(Term, [{minor_version, 2}]),
    %% Same bytes back: the corpus is term_to_binary(T, [{minor_version, 2}]) of this release.
    RoundTrip = Encoded =:= Bin,
    report(Name, decode, measure(Cfg, fun() -> binary_to_term(Bin) end), RoundTrip),
    report(Name, encode, measure(Cfg, fun() -> term_to_binary(Term, [{minor_version, 2}]) end), RoundTrip).

report(Name, Direction, #{ns_per_op := Ns, rounds := Rounds, cpu_ns_per_op := CpuNs,
                          cpu_rounds := CpuRounds, ops := Ops}, RoundTrip) ->
    io:format("{\"workload\": \"~s\", \"direction\": \"~s\", \"nsPerOp\": ~.3f, \"bestNsPerOp\": ~.3f, "
              "\"cpuNsPerOp\": ~.3f, \"ops\": ~b, \"roundsNsPerOp\": [~s], \"roundsCpuNsPerOp\": [~s], "
              "\"roundTrip\": ~s}~n",
              [Name, Direction, Ns, lists:min(Rounds), float(CpuNs), Ops, floats(Rounds), floats(CpuRounds), RoundTrip]).

floats(Values) -> lists:join(", ", [float_to_list(float(V), [{decimals, 3}]) || V <- Values]).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Calls F N times; the result of each call is kept alive until the next (as the JS sink is).
run(_F, 0, Last) -> Last;
run(F, N, _Last) -> run(F, N - 1, F()).

measure(#{warmup_ms := WarmupMs, round_ms := RoundMs, rounds := Rounds}, F) ->
    Batch = calibrate(F),
    warm(F, Batch, now_ns() + WarmupMs * 1000000),
    RoundNs = [round_ns(F, Batch, RoundMs * 1000000) || _ <- lists:seq(1, Rounds)],
    Times = [Ns / Ops || {Ns, _, Ops} <- RoundNs],
    CpuTimes = [Cpu / Ops || {_, Cpu, Ops} <- RoundNs],
    #{ns_per_op => median(Times), rounds => Times, cpu_ns_per_op => median(CpuTimes),
      cpu_rounds => CpuTimes, ops => lists:sum([Ops || {_, _, Ops} <- RoundNs])}.

median(Values) ->
    Sorted = lists:sort(Values),
    lists:nth((length(Sorted) + 1) div 2, Sorted).

%% A batch is the number of calls that takes about 1 ms (at least 1), so reading the clock costs
%% nothing measurable; doubling from 1 is bounded (2^30 calls of anything take far more than 1 ms).
calibrate(F) -> calibrate(F, 1).
calibrate(F, N) when N >= 1 bsl 30 -> _ = F, N;
calibrate(F, N) ->
    T0 = now_ns(),
    _ = run(F, N, undefined),
    case now_ns() - T0 >= 1000000 of
        true -> N;
        false -> calibrate(F, N * 2)
    end.

warm(F, Batch, Until) ->
    _ = run(F, Batch, undefined),
    case now_ns() >= Until of
        true -> ok;
        false -> warm(F, Batch, Until)
    end.

%% Returns {WallNs, CpuNs, Ops}. CPU time is statistics(runtime): all schedulers, in ms (a round
%% lasts hundreds of ms); as in run.mjs it is the steadier figure on a machine shared with other
%% work, as time spent descheduled does not count.
round_ns(F, Batch, MinNs) ->
    %% As run.mjs: a full collection before every round, outside the timing.
    true = erlang:garbage_collect(),
    {Cpu0, _} = erlang:statistics(runtime),
    T0 = now_ns(),
    round_ns(F, Batch, MinNs, T0, Cpu0, 0).

round_ns(F, Batch, MinNs, T0, Cpu0, Ops) ->
    _ = run(F, Batch, undefined),
    Elapsed = now_ns() - T0,
    case Elapsed >= MinNs of
        true ->
            {Cpu1, _} = erlang:statistics(runtime),
            {Elapsed, (Cpu1 - Cpu0) * 1000000, Ops + Batch};
        false -> round_ns(F, Batch, MinNs, T0, Cpu0, Ops + Batch)
    end.
