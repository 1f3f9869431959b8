#!/usr/bin/env escript
%% -*- erlang -*-
%%! +sbwt none
%%
%% Writes the fixed, seeded ETF benchmark corpus: one file per workload, each the bytes of
%% term_to_binary(Term, [{minor_version, 2}]) (`<name>.etf`), plus the same term under
%% minor_version 1 (`<name>.v1.etf`, Latin-1 ATOM_EXT atoms) because erlpack cannot read the
%% UTF-8 atom tags minor_version 2 writes; and manifest.json describing the files.
%%
%% Usage: escript gen-corpus.escript OUT_DIR [GENERATOR_HASH]
%% The runner (run.mjs) calls this when the corpus is missing or the generator changed.
-mode(compile).

main([OutDir]) -> main([OutDir, ""]);
main([OutDir, GeneratorHash]) ->
    %% exsss with a fixed seed: the same corpus on every run of the same OTP release
    %% (term_to_binary's map order may differ between releases for maps over 32 keys).
    _ = rand:seed(exsss, {20261123, 42, 7}),
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    Workloads = workloads(),
    Entries = [write_workload(OutDir, W) || W <- Workloads],
    Manifest = [
        "{\n",
        "  \"otpRelease\": \"", erlang:system_info(otp_release), "\",\n",
        "  \"generator\": \"", GeneratorHash, "\",\n",
        "  \"workloads\": [\n",
        lists:join(",\n", Entries),
        "\n  ]\n}\n"
    ],
    ok = file:write_file(filename:join(OutDir, "manifest.json"), Manifest),
    io:format("corpus written to ~s (~b workloads)~n", [OutDir, length(Workloads)]);
main(_) ->
    io:format(standard_error, "usage: gen-corpus.escript OUT_DIR [GENERATOR_HASH]~n", []),
    halt(2).

write_workload(OutDir, {Name, Description, Term}) ->
    V2 = term_to_binary(Term, [{minor_version, 2}]),
    V1 = term_to_binary(Term, [{minor_version, 1}]),
    %% The runner checks the decoder round trip against these bytes; make sure they decode.
    Term = binary_to_term(V2),
    ok = file:write_file(filename:join(OutDir, Name ++ ".etf"), V2),
    ok = file:write_file(filename:join(OutDir, Name ++ ".v1.etf"), V1),
    io_lib:format("    {\"name\": \"~s\", \"file\": \"~s.etf\", \"fileV1\": \"~s.v1.etf\", "
                  "\"bytes\": ~b, \"description\": \"~s\"}",
                  [Name, Name, Name, byte_size(V2), Description]).

workloads() ->
    [
     {"gateway", "one ~2 KB Discord-gateway-style MESSAGE_CREATE event: atom keys at the top, "
                 "binary keys below, nested maps, lists of maps, binaries, integers, booleans, nil",
      gateway_event(42, 1)},
     {"gateway-list", "a ~6 MB list of varied gateway events (as a READY/GUILD_CREATE burst or a replay)",
      gateway_list(6 * 1024 * 1024)},
     {"rpc-call", "one small gen_server call as rex receives it: {'$gen_call', {Pid, [alias|Ref]}, "
                  "{call, M, F, A, user}} with a remote pid and reference",
      rpc_call()},
     {"integers", "a list of 100k integers of mixed sizes (0..255, 32-bit, up to 2^53)",
      integers(100000)},
     {"floats", "a list of 50k floats (NEW_FLOAT_EXT), mixed magnitudes, some integral",
      floats(50000)},
     {"atoms", "a list of 50k atoms drawn from 400 distinct names (ok, error, nil, module-like names)",
      atoms(50000)},
     {"binary-1m", "one 1 MiB binary of seeded random bytes",
      rand:bytes(1024 * 1024)},
     {"bigints", "a list of 10k integers of 65 to 1024 bits, positive and negative (SMALL_BIG_EXT)",
      bigints(10000)},
     {"deep-nesting", "1000-deep nesting alternating 2-tuples, lists and 1-key maps",
      deep(1000)}
    ].

%% ---- gateway events -------------------------------------------------------------------------

snowflake() ->
    %% Discord ids: 64-bit integers sent as decimal strings (binaries).
    integer_to_binary(1000000000000000000 + rand:uniform(99999999999999999)).

word() ->
    Words = [<<"the">>, <<"deploy">>, <<"is">>, <<"green">>, <<"again">>, <<"node">>,
             <<"cluster">>, <<"epmd">>, <<"pong">>, <<"pang">>, <<"kubernetes">>, <<"pod">>,
             <<"héllo"/utf8>>, <<"ünïcode"/utf8>>, <<"🚀"/utf8>>, <<"ok">>, <<"lgtm">>,
             <<"ship">>, <<"it">>, <<"tomorrow">>],
    lists:nth(rand:uniform(length(Words)), Words).

sentence(N) ->
    iolist_to_binary(lists:join(<<" ">>, [word() || _ <- lists:seq(1, N)])).

timestamp() ->
    iolist_to_binary(io_lib:format("2026-11-~2..0BT~2..0B:~2..0B:~2..0B.~3..0B000+00:00",
                                   [rand:uniform(28), rand:uniform(24) - 1, rand:uniform(60) - 1,
                                    rand:uniform(60) - 1, rand:uniform(1000) - 1])).

user() ->
    #{<<"id">> => snowflake(),
      <<"username">> => iolist_to_binary([word(), integer_to_binary(rand:uniform(999))]),
      <<"global_name">> => case rand:uniform(3) of 1 -> nil; _ -> sentence(2) end,
      <<"discriminator">> => <<"0">>,
      <<"avatar">> => list_to_binary(io_lib:format("~32.16.0b", [rand:uniform(1 bsl 127)])),
      <<"avatar_decoration_data">> => nil,
      <<"bot">> => rand:uniform(10) =:= 1,
      <<"public_flags">> => rand:uniform(256) - 1}.

member() ->
    #{<<"roles">> => [snowflake() || _ <- lists:seq(1, rand:uniform(4))],
      <<"joined_at">> => timestamp(),
      <<"premium_since">> => nil,
      <<"nick">> => case rand:uniform(2) of 1 -> nil; _ -> sentence(1) end,
      <<"mute">> => false,
      <<"deaf">> => false,
      <<"pending">> => false,
      <<"flags">> => 0,
      <<"communication_disabled_until">> => nil}.

embed() ->
    #{<<"type">> => <<"rich">>,
      <<"title">> => sentence(4),
      <<"description">> => sentence(12),
      <<"url">> => <<"https://example.com/builds/", (integer_to_binary(rand:uniform(100000)))/binary>>,
      <<"color">> => rand:uniform(16#ffffff),
      <<"fields">> => [#{<<"name">> => sentence(1), <<"value">> => sentence(3), <<"inline">> => true}
                       || _ <- lists:seq(1, rand:uniform(3))]}.

gateway_event(Seq, Size) ->
    %% Size scales the variable parts (content, mentions, embeds); Size 1 gives ~2 KB.
    Channel = snowflake(),
    Guild = snowflake(),
    #{op => 0,
      t => <<"MESSAGE_CREATE">>,
      s => Seq,
      d => #{<<"id">> => snowflake(),
             <<"type">> => 0,
             <<"channel_id">> => Channel,
             <<"guild_id">> => Guild,
             <<"author">> => user(),
             <<"member">> => member(),
             <<"content">> => sentence(8 * Size + rand:uniform(8)),
             <<"timestamp">> => timestamp(),
             <<"edited_timestamp">> => nil,
             <<"tts">> => false,
             <<"mention_everyone">> => false,
             <<"mentions">> => [maps:put(<<"member">>, member(), user()) || _ <- lists:seq(1, Size)],
             <<"mention_roles">> => [],
             <<"attachments">> => [],
             <<"embeds">> => [embed() || _ <- lists:seq(1, Size)],
             <<"pinned">> => false,
             <<"flags">> => 0,
             <<"components">> => [],
             <<"nonce">> => snowflake(),
             <<"referenced_message">> => nil,
             <<"position">> => rand:uniform(1000)}}.

gateway_list(TargetBytes) -> gateway_list(TargetBytes, 1, 0, []).

gateway_list(Target, _Seq, Bytes, Acc) when Bytes >= Target -> lists:reverse(Acc);
gateway_list(Target, Seq, Bytes, Acc) ->
    Event = gateway_event(Seq, rand:uniform(3)),
    gateway_list(Target, Seq + 1, Bytes + erlang:external_size(Event), [Event | Acc]).

%% ---- rpc ------------------------------------------------------------------------------------

%% A pid and a reference of a remote node, built from their wire form (a local pid would carry
%% nonode@nohost and creation 0; real dist traffic carries the peer's long name and creation).
-define(NODE, "app@10-1-2-3.beam-headless.prod.svc.cluster.local").

node_atom_bytes() ->
    Name = <<?NODE>>,
    <<119, (byte_size(Name)), Name/binary>>.

remote_pid() ->
    binary_to_term(<<131, 88, (node_atom_bytes())/binary, 1234:32, 0:32, 1700000001:32>>).

remote_ref() ->
    binary_to_term(<<131, 90, 3:16, (node_atom_bytes())/binary, 1700000001:32,
                     262145:32, 3351839297:32, 1917223451:32>>).

rpc_call() ->
    {'$gen_call', {remote_pid(), [alias | remote_ref()]},
     {call, 'Elixir.MyApp.Accounts', get_user_by_email, [<<"ada@example.com">>, [preload, profile]], user}}.

%% ---- numbers, atoms ------------------------------------------------------------------------

integers(N) ->
    [case rand:uniform(4) of
         1 -> rand:uniform(256) - 1;                                  % SMALL_INTEGER_EXT
         2 -> rand:uniform(1 bsl 31) - (1 bsl 30);                    % INTEGER_EXT
         3 -> -(rand:uniform(1 bsl 31));                              % INTEGER_EXT, negative
         4 -> rand:uniform(1 bsl 53)                                  % SMALL_BIG_EXT, still a JS number
     end || _ <- lists:seq(1, N)].

floats(N) ->
    [case rand:uniform(4) of
         1 -> rand:uniform() ;
         2 -> (rand:uniform() - 0.5) * 1.0e12;
         3 -> float(rand:uniform(100000));
         4 -> rand:normal() * 1.0e-6
     end || _ <- lists:seq(1, N)].

atom_names() ->
    Fixed = [ok, error, true, false, nil, undefined, noreply, reply, stop, normal, shutdown,
             infinity, timeout, badarg, badmatch, '$gen_call', '$gen_cast', 'EXIT', 'DOWN',
             process, noproc, noconnection],
    Made = [list_to_atom(lists:flatten(io_lib:format("Elixir.MyApp.Module~b", [I])))
            || I <- lists:seq(1, 200)] ++
           [list_to_atom("field_" ++ integer_to_list(I)) || I <- lists:seq(1, 400 - 222)],
    list_to_tuple(Fixed ++ Made).

atoms(N) ->
    Names = atom_names(),
    [element(rand:uniform(tuple_size(Names)), Names) || _ <- lists:seq(1, N)].

bigints(N) ->
    [begin
         Bits = 65 + rand:uniform(1024 - 65),
         Magnitude = (1 bsl (Bits - 1)) + rand:uniform(1 bsl (Bits - 2)),
         case rand:uniform(2) of 1 -> Magnitude; 2 -> -Magnitude end
     end || _ <- lists:seq(1, N)].

%% ---- nesting --------------------------------------------------------------------------------

deep(0) -> <<"bottom">>;
deep(D) ->
    case D rem 3 of
        0 -> {D, deep(D - 1)};
        1 -> [D, deep(D - 1)];
        2 -> #{<<"child">> => deep(D - 1)}
    end.
