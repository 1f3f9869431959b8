%% Generates seeded random terms of every kind and writes their encodings for the beamnode ETF
%% test; also checks encodings beamnode made (binary_to_term, then term_to_binary must give back
%% the same bytes).
-module(etfgen).
-export([gen/3, check/2]).

%% File of records <<Minor:8, Level:8, Len:32, Bytes:Len/binary>> (Level 0: not compressed).
gen(Path, Seed, Count) ->
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 2}),
    Port = open_port({spawn, "cat"}, []),
    Ctx = #{port => Port, pid => spawn(fun() -> receive stop -> ok end end)},
    Recs = [rec(gen_term(Ctx, 4), I) || I <- lists:seq(1, Count)] ++ fixed(Ctx),
    port_close(Port),
    ok = file:write_file(Path, Recs),
    length(Recs).

rec(T, I) ->
    {Minor, Opts} = case I rem 3 of 0 -> {1, [{minor_version, 1}]}; _ -> {2, [{minor_version, 2}]} end,
    %% every 10th term compressed: [compressed] (level 6) or {compressed, 1..9}
    {C, Opts2} = case I rem 10 of
                     0 -> case (I div 10) rem 4 of
                              0 -> {6, [compressed | Opts]};
                              _ -> L = 1 + (I div 10) rem 9, {L, [{compressed, L} | Opts]}
                          end;
                     _ -> {0, Opts}
                 end,
    B = term_to_binary(T, Opts2),
    <<Minor:8, C:8, (byte_size(B)):32, B/binary>>.

fixed(Ctx) ->
    X = rand:uniform(100),
    Terms = [fun lists:reverse/1, fun(Y) -> X + Y end, fun() -> {X, self()} end,
             -0.0, 0.0, 1.0, 1.0e300, -1.5e-300, 1 bsl 64, -(1 bsl 64), 1 bsl 2100, -(1 bsl 2100),
             (1 bsl 31), -(1 bsl 31), -(1 bsl 31) - 1, (1 bsl 31) - 1, 255, 256, -1,
             'åtom', 'laté', 'ünïcode_€', list_to_atom(lists:duplicate(255, $a)),
             list_to_atom(lists:duplicate(255, 16#1F600)),
             lists:seq(0, 255), lists:duplicate(70000, 1), [1, 2 | 3], [a | b],
             <<1:3>>, <<255, 7:3>>, <<>>, maps:from_list([{I, I} || I <- lists:seq(1, 33)]),
             maps:from_list([{integer_to_binary(I), I} || I <- lists:seq(1, 100)]),
             #{1 => a, 1.0 => b, a => c, {} => d, [] => e, "s" => f, <<"b">> => g, self() => h, make_ref() => i,
               maps:get(port, Ctx) => j, fun lists:map/2 => k, #{} => l, [x | y] => m},
             deep(600), self(), maps:get(pid, Ctx), make_ref(), maps:get(port, Ctx), hd(erlang:ports()),
             lists:duplicate(300, make_ref())],
    [rec(T, I) || {T, I} <- lists:zip(Terms, lists:seq(1, length(Terms)))]
        ++ [rec(T, 10) || T <- Terms] ++ [rec(T, 20) || T <- Terms].

deep(0) -> [];
deep(N) -> case N rem 3 of 0 -> {deep(N - 1)}; 1 -> [deep(N - 1)]; _ -> #{k => deep(N - 1)} end.

gen_term(_Ctx, 0) -> gen_leaf(_Ctx);
gen_term(Ctx, D) ->
    case rand:uniform(10) of
        N when N =< 5 -> gen_leaf(Ctx);
        6 -> list_to_tuple([gen_term(Ctx, D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        7 -> [gen_term(Ctx, D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)];
        8 -> maps:from_list([{gen_term(Ctx, D - 1), gen_term(Ctx, D - 1)} || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        9 -> maps:from_list([{gen_leaf(Ctx), gen_term(Ctx, 0)} || _ <- lists:seq(1, 30 + rand:uniform(40))]);
        10 -> [gen_term(Ctx, D - 1), gen_term(Ctx, D - 1) | gen_leaf(Ctx)]
    end.

gen_leaf(Ctx) ->
    case rand:uniform(22) of
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
        11 -> [rand:uniform(1000) || _ <- lists:seq(1, rand:uniform(5))];
        12 -> crypto_bytes(rand:uniform(40) - 1);
        13 -> <<(crypto_bytes(rand:uniform(5)))/binary, (rand:uniform(128) - 1):(rand:uniform(7))>>;
        14 -> self();
        15 -> make_ref();
        16 -> maps:get(port, Ctx);
        17 -> fun lists:reverse/1;
        18 -> X = rand:uniform(1000), fun(Y) -> {X, Y} end;
        19 -> unicode:characters_to_binary([rand:uniform(16#D7FF) || _ <- lists:seq(1, rand:uniform(10))]);
        20 -> [];
        21 -> {};
        22 -> #{}
    end.

crypto_bytes(N) -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, N)]).

%% In: records <<Minor:8, Len:32, Bytes/binary>>. Out: one byte per record: 1 = round trip equal,
%% 0 = decoded but re-encoded differently, 2 = binary_to_term failed; then for 0s the re-encoding.
check(InPath, OutPath) ->
    {ok, In} = file:read_file(InPath),
    Rs = check_all(In, []),
    ok = file:write_file(OutPath, Rs),
    length(Rs).

check_all(<<>>, Acc) -> lists:reverse(Acc);
check_all(<<Minor:8, Len:32, B:Len/binary, Rest/binary>>, Acc) ->
    R = try binary_to_term(B) of
            T -> B2 = term_to_binary(T, [{minor_version, Minor}]),
                 case B2 =:= B of true -> <<1, 0:32>>; false -> <<0, (byte_size(B2)):32, B2/binary>> end
        catch _:_ -> <<2, 0:32>>
        end,
    check_all(Rest, [R | Acc]).
