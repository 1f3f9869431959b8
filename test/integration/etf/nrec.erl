%% OTP 29 native records for test/integration/etf-records.test.ts (compiled on OTP 29 only).
-module(nrec).
-export([point/2, samples/0, write_samples/1, check/2, sorted/1, exported/2]).

-record #point{x = 0, y = 0}.
-record #empty{}.

point(X, Y) -> #point{x = X, y = Y}.

%% An exported record as binary_to_term makes it (flag 1); a compiled module needs -export_record.
exported(X, Y) ->
    B = term_to_binary(#point{x = X, y = Y}),
    <<131, 67, N:32, 0, Rest/binary>> = B,
    binary_to_term(<<131, 67, N:32, 1, Rest/binary>>).

samples() ->
    P = #point{x = 1, y = 2},
    [P, #empty{}, #point{x = 1.0, y = -0.0}, #point{x = #point{}, y = [#point{y = P}]},
     #point{x = 1 bsl 40, y = -(1 bsl 70)}, #point{x = <<"héllo"/utf8>>, y = 'ĉaŭ'},
     #point{x = binary:copy(<<7>>, 1 bsl 20), y = lists:seq(1, 2000)},
     #{P => P, {P} => [P], a => #empty{}},
     maps:from_list([{#point{x = I}, I} || I <- lists:seq(1, 40)]),
     {P, [P]}, [P | P], exported(3, 4)].

%% File of <<Minor:8, Level:8, Len:32, Bytes/binary>>, as etfgen:gen/3 writes.
write_samples(Path) ->
    Recs = [begin B = term_to_binary(T, O), <<M:8, L:8, (byte_size(B)):32, B/binary>> end
            || T <- samples(), {M, L, O} <- [{2, 0, []}, {1, 0, [{minor_version, 1}]}, {2, 6, [compressed]}]],
    ok = file:write_file(Path, Recs),
    length(Recs).

%% In: <<Len:32, Bytes/binary>> records of what beamnode encoded, in the order of samples().
%% Returns [true | {I, What}] for each: binary_to_term =:= the sample and term_to_binary gives the same bytes.
check(Path, Minor) ->
    {ok, In} = file:read_file(Path),
    check(In, samples(), Minor, 1, []).
check(<<>>, [], _, _, Acc) -> lists:reverse(Acc);
check(<<Len:32, B:Len/binary, Rest/binary>>, [T | Ts], Minor, I, Acc) ->
    R = try binary_to_term(B) of
            T2 when T2 =:= T ->
                case term_to_binary(T2, [{minor_version, Minor}]) of B -> true; _ -> {I, reencoded_differently} end;
            T2 -> {I, not_equal, T2}
        catch C:E -> {I, C, E}
        end,
    check(Rest, Ts, Minor, I + 1, [R | Acc]).

%% The keys of a small map (≤ 32 keys) in erts' order: term order with integers before floats,
%% which beamnode's compareTerms follows.
sorted(L) -> maps:keys(maps:from_list([{K, 0} || K <- L])).
