%% The BEAM side of beamnode's differential tests (test/integration/etf-diff.test.ts,
%% test/integration/etf-node-echo.test.ts, `npm run fuzz -- beam`): it judges what beamnode
%% encoded (binary_to_term, then =:= against the term an Erlang expression builds) and makes
%% seeded random terms for beamnode to decode and re-encode byte for byte.
-module(beamdiff).
-export([check/2, gen/4, eval/2, i64s/1, f64s/1, pid/4, ref/3, port/3, record/5]).
-export([erl_to_js/5, sink/0]).

%% ---- JS -> erl: judge encodings ---------------------------------------------------------

%% In per term: an expression (see expr/1), then <<N:8, N x <<Path:8, Len:32, Bytes/binary>>>>.
%% Out: <<Terms:32, Failures:32>>, then per failure <<Index:32, Path:8, Len:32, Detail/binary>>
%% (Detail: term_to_binary({Why, Expected, Got})). Returns the number of failures.
check(InPath, OutPath) ->
    {ok, In} = file:read_file(InPath),
    {Terms, Fails} = check_all(In, 0, []),
    ok = file:write_file(OutPath, [<<Terms:32, (length(Fails)):32>> | Fails]),
    length(Fails).

check_all(<<>>, I, Acc) -> {I, lists:reverse(Acc)};
check_all(In, I, Acc) ->
    {E, Blobs, <<N:8, Rest/binary>>} = expr(In),
    Exp = try eval(E, Blobs) catch C:R -> {'$eval_failed', C, R, E} end,
    {Acc2, Rest2} = paths(N, Rest, I, Exp, Acc),
    check_all(Rest2, I + 1, Acc2).

%% <<TextLen:32, Text/binary, NBlobs:32, NBlobs x <<Len:32, Bytes/binary>>>>: an expression and
%% the long byte runs it reads as element(K, Blobs) (erl_scan is slow over long literals).
expr(<<TL:32, Text:TL/binary, NB:32, Rest/binary>>) -> blobs(NB, Rest, Text, []).
blobs(0, Rest, Text, Acc) -> {Text, list_to_tuple(lists:reverse(Acc)), Rest};
blobs(N, <<L:32, B:L/binary, Rest/binary>>, Text, Acc) -> blobs(N - 1, Rest, Text, [B | Acc]).

paths(0, Rest, _I, _Exp, Acc) -> {Acc, Rest};
paths(N, <<P:8, L:32, B:L/binary, Rest/binary>>, I, Exp, Acc) ->
    Fail = try binary_to_term(B) of
               T when T =:= Exp -> ok;
               T -> {not_equal, T}
           catch C:R -> {binary_to_term, {C, R}}
           end,
    case Fail of
        ok -> paths(N - 1, Rest, I, Exp, Acc);
        {Why, Got} ->
            D = term_to_binary({Why, Exp, Got}),
            paths(N - 1, Rest, I, Exp, [<<I:32, P:8, (byte_size(D)):32, D/binary>> | Acc])
    end.

%% An Erlang expression (UTF-8 text, no trailing dot) evaluated to its value, Blobs bound.
eval(Text, Blobs) ->
    {ok, Ts, _} = erl_scan:string(unicode:characters_to_list(<<Text/binary, ".">>)),
    {ok, Es} = erl_parse:parse_exprs(Ts),
    {value, V, _} = erl_eval:exprs(Es, erl_eval:add_binding('Blobs', Blobs, erl_eval:new_bindings())),
    V.

%% Compact, exact forms for big data in expressions (raw 64-bit words, not text).
i64s(B) -> [X || <<X:64/signed>> <= B].
f64s(B) -> [X || <<X:64/float>> <= B].

%% Pids, references, ports and records built from their documented layouts
%% (erts/doc/guides/erl_ext_dist.md) with OTP's own atom encoding, not beamnode's.
pid(Node, Id, Serial, Cr) -> binary_to_term(<<131, 88, (atom_ext(Node))/binary, Id:32, Serial:32, Cr:32>>).
ref(Node, Cr, Ids) -> binary_to_term(iolist_to_binary([131, 90, <<(length(Ids)):16>>, atom_ext(Node), <<Cr:32>>, [<<W:32>> || W <- Ids]])).
port(Node, Id, Cr) -> binary_to_term(<<131, 120, (atom_ext(Node))/binary, Id:64, Cr:32>>).
record(Mod, Name, Exported, Fields, Values) ->
    binary_to_term(iolist_to_binary([131, 67, <<(length(Fields)):32>>, case Exported of true -> 1; false -> 0 end,
                                     [atom_ext(A) || A <- [Mod, Name | Fields]], [body(V) || V <- Values]])).

atom_ext(A) -> body(A).
body(T) -> <<131, B/binary>> = term_to_binary(T, [{minor_version, 2}]), B.

%% ---- erl -> JS: seeded terms -------------------------------------------------------------

%% File of <<Minor:8, Level:8, Len:32, Bytes/binary>> (Level 0: not compressed), Count random terms
%% plus, when Big, the large ones. Returns {Terms, Bytes}.
gen(Path, Seed, Count, Big) ->
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 2}),
    Port = open_port({spawn, "cat"}, []),
    Ctx = #{port => Port, pid => spawn(fun() -> receive stop -> ok end end),
            records => records_supported()},
    Terms = [term(Ctx, 4) || _ <- lists:seq(1, Count)] ++ case Big of true -> big(); false -> [] end,
    Recs = [rec(T, I) || {T, I} <- lists:zip(Terms, lists:seq(1, length(Terms)))],
    port_close(Port),
    ok = file:write_file(Path, Recs),
    {length(Recs), iolist_size(Recs)}.

records_supported() ->
    list_to_integer(erlang:system_info(otp_release)) >= 29.

rec(T, I) ->
    {Minor, Opts} = case I rem 3 of 0 -> {1, [{minor_version, 1}]}; _ -> {2, [{minor_version, 2}]} end,
    {C, Opts2} = case I rem 8 of 0 -> L = 1 + (I div 8) rem 9, {L, [{compressed, L} | Opts]}; _ -> {0, Opts} end,
    B = term_to_binary(T, Opts2),
    <<Minor:8, C:8, (byte_size(B)):32, B/binary>>.

%% Large terms: long lists of timestamps and mid-range integers, a big map, a 1 MiB binary, deep nesting.
big() ->
    Now = erlang:system_time(millisecond),
    [[Now + I || I <- lists:seq(0, 99999)],
     [mid_int() || _ <- lists:seq(1, 20000)],
     maps:from_list([{I, Now + I} || I <- lists:seq(1, 10000)]),
     maps:from_list([{integer_to_binary(I), [I, float(I)]} || I <- lists:seq(1, 5000)]),
     crypto:strong_rand_bytes(1 bsl 20),
     {crypto:strong_rand_bytes((1 bsl 20) + 3), [Now, -Now]},
     [float(I) / 7 || I <- lists:seq(1, 10000)],
     deep(3000)].

deep(0) -> [];
deep(N) -> case N rem 3 of 0 -> {deep(N - 1)}; 1 -> [deep(N - 1)]; _ -> #{k => deep(N - 1)} end.

mid_int() ->
    S = case rand:uniform(2) of 1 -> 1; 2 -> -1 end,
    S * ((1 bsl 31) + rand:uniform(1 bsl 53 - (1 bsl 31))).

%% Integers at every boundary where an encoding changes.
boundary_int() ->
    B = lists:nth(rand:uniform(11), [7, 8, 15, 16, 31, 32, 53, 63, 64, 127, 1000]),
    Sign = case rand:uniform(2) of 1 -> 1; 2 -> -1 end,
    Sign * ((1 bsl B) + rand:uniform(3) - 2).

term(Ctx, 0) -> leaf(Ctx);
term(Ctx, D) ->
    case rand:uniform(12) of
        N when N =< 5 -> leaf(Ctx);
        6 -> list_to_tuple([term(Ctx, D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        7 -> [term(Ctx, D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)];
        8 -> maps:from_list([{term(Ctx, D - 1), term(Ctx, D - 1)} || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        9 -> maps:from_list([{leaf(Ctx), term(Ctx, 0)} || _ <- lists:seq(1, 30 + rand:uniform(40))]);
        10 -> [term(Ctx, D - 1), term(Ctx, D - 1) | leaf(Ctx)];
        11 -> [leaf(Ctx) || _ <- lists:seq(1, rand:uniform(300))];
        12 -> case maps:get(records, Ctx) of
                  true -> N = rand:uniform(4) - 1,
                          Fs = lists:usort([list_to_atom([$a + rand:uniform(25)]) || _ <- lists:seq(1, N)]),
                          record(lists:nth(rand:uniform(2), [m, 'mød']), lists:nth(rand:uniform(2), [point, r]),
                                 rand:uniform(4) =:= 1, Fs, [term(Ctx, D - 1) || _ <- Fs]);
                  false -> {}
              end
    end.

leaf(Ctx) ->
    case rand:uniform(26) of
        1 -> rand:uniform(256) - 1;
        2 -> rand:uniform(1 bsl 32) - (1 bsl 31);
        3 -> (rand:uniform(1 bsl 64) - (1 bsl 63)) * rand:uniform(1 bsl 20);
        4 -> (rand:uniform(1 bsl 64)) bsl (rand:uniform(2100));
        5 -> rand:uniform() * math:pow(10, rand:uniform(40) - 20) * (rand:uniform(3) - 2);
        6 -> float(rand:uniform(1000000) - 500000);
        7 -> list_to_atom([$a + rand:uniform(25) || _ <- lists:seq(1, rand:uniform(12))]);
        8 -> list_to_atom([rand:uniform(16#2FF) || _ <- lists:seq(1, rand:uniform(8))]);
        9 -> list_to_atom([case rand:uniform(2) of 1 -> 16#4E00 + rand:uniform(16#1000); 2 -> 16#1F600 + rand:uniform(50) end || _ <- lists:seq(1, rand:uniform(8))]);
        10 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(20))];
        11 -> boundary_int();
        12 -> crypto:strong_rand_bytes(rand:uniform(40) - 1);
        13 -> <<(crypto:strong_rand_bytes(rand:uniform(5)))/binary, (rand:uniform(128) - 1):(rand:uniform(7))>>;
        14 -> self();
        15 -> make_ref();
        16 -> maps:get(port, Ctx);
        17 -> fun lists:reverse/1;
        18 -> X = rand:uniform(1000), fun(Y) -> {X, Y} end;
        19 -> utf8_text();
        20 -> [];
        21 -> erlang:system_time(millisecond) + rand:uniform(1 bsl 20);
        22 -> mid_int();
        23 -> lists:nth(rand:uniform(6), [-0.0, 0.0, 5.0e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 1.0e21]);
        24 -> maps:get(pid, Ctx);
        25 -> #{};
        26 -> {}
    end.

%% Text with characters of each UTF-8 width (1, 2, 3 and 4 bytes).
utf8_text() ->
    C = fun() -> case rand:uniform(4) of 1 -> rand:uniform(16#7F); 2 -> 16#80 + rand:uniform(16#77F);
                     3 -> 16#E000 + rand:uniform(16#1FFF); 4 -> 16#10000 + rand:uniform(16#FFFFF) end end,
    unicode:characters_to_binary([C() || _ <- lists:seq(1, rand:uniform(30))]).

%% ---- through the distribution --------------------------------------------------------------

%% Sends N seeded terms (plus the big ones when Big) to Dest as {self(), I, T}, Window at a time;
%% each must come back as {echoed, I, T2} with T2 =:= T. Returns {ok, Terms, Bytes} (Bytes: the
%% terms' term_to_binary sizes) or the first mismatch.
erl_to_js(Dest, Seed, N, Big, Window) ->
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 2}),
    Port = open_port({spawn, "cat"}, []),
    Ctx = #{port => Port, pid => spawn(fun() -> receive stop -> ok end end), records => records_supported()},
    Terms = [term(Ctx, 4) || _ <- lists:seq(1, N)] ++ case Big of true -> big(); false -> [] end,
    R = echo(Dest, lists:zip(lists:seq(1, length(Terms)), Terms), Window, 0),
    port_close(Port),
    R.

echo(_Dest, [], _Window, Bytes) -> {ok, Bytes};
echo(Dest, Ts, Window, Bytes) ->
    {Now, Later} = lists:split(min(Window, length(Ts)), Ts),
    [Dest ! {self(), I, T} || {I, T} <- Now],
    case recv(Now) of
        ok -> echo(Dest, Later, Window, Bytes + lists:sum([byte_size(term_to_binary(T)) || {_, T} <- Now]));
        Bad -> Bad
    end.

recv([]) -> ok;
recv([{I, T} | Rest]) ->
    receive
        {echoed, I, T2} when T2 =:= T -> recv(Rest);
        {echoed, I, T2} -> {mismatch, I, T, T2}
    after 30000 -> {timeout, I}
    end.

%% A process that checks what beamnode sends through the distribution: {From, I, Judge, T}, where
%% Judge is {expr, Bin} (an expression as expr/1 reads it) or {etf, Bin} (beamnode's encode/1 of
%% the same term, itself judged by etf-diff.test.ts). T must be =:= what the judge gives. It
%% answers {checked, I, true | {false, Expected}, T}: the term goes back too.
sink() ->
    receive
        {From, I, Judge, T} ->
            Ok = try judge(Judge) of E when E =:= T -> true; E -> {false, E} catch C:R -> {false, {C, R}} end,
            From ! {checked, I, Ok, T},
            sink();
        stop -> ok
    end.

judge({expr, Bin}) -> {Text, Blobs, <<>>} = expr(Bin), eval(Text, Blobs);
judge({etf, Bin}) -> binary_to_term(Bin).
