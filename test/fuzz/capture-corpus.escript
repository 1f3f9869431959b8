#!/usr/bin/env escript
%%! -name cap@127.0.0.1 -setcookie capcookie
main(_) ->
  P = self(), R = make_ref(), Port = hd(erlang:ports()),
  Terms = [
    {small_int, 42}, {int, -123456}, {big, 1 bsl 100}, {negbig, -(1 bsl 300)},
    {float, 3.14159}, {atom, hello}, {utf8_atom, 'ĉaŭ'}, {empty_list, []},
    {string, "hello world"}, {list, [1, two, <<"three">>, 4.0]}, {improper, [a | b]},
    {tuple, {a, 1, "x"}}, {large_tuple, list_to_tuple(lists:seq(1, 300))},
    {binary, <<1,2,3,4,5>>}, {bits, <<5:3>>}, {map, #{a => 1, <<"b">> => [2]}},
    {big_map, maps:from_list([{I, I*I} || I <- lists:seq(1, 40)])},
    {pid, P}, {ref, R}, {port, Port}, {export_fun, fun lists:map/2},
    {local_fun, fun(X) -> X + 1 end}, {nested, {[#{k => {P, R}}], [[[[[deep]]]]]}},
    {compressed, term_to_binary(lists:duplicate(200, <<"abc">>), [compressed])},
    {long_string, lists:duplicate(1000, $a)},
    %% control tuples as OTP 25 sends them (dist.hrl ops)
    {ctl_send, {2, '', P}}, {ctl_reg_send, {6, P, '', rex}}, {ctl_link, {1, P, P}},
    {ctl_exit, {3, P, P, normal}}, {ctl_monitor, {19, P, P, R}}, {ctl_demonitor, {20, P, P, R}},
    {ctl_monitor_exit, {21, P, P, R, noproc}}, {ctl_send_sender, {22, P, P}},
    {ctl_payload_exit, {24, P, P}}, {ctl_spawn_request, {29, R, P, P, {erlang, apply, 2}, []}},
    {ctl_spawn_reply, {31, R, P, 0, P}}, {ctl_alias_send, {33, P, R}}, {ctl_unlink_id, {35, 1, P, P}},
    {msg_call, {'$gen_call', {P, R}, {is_auth, node()}}}
  ],
  lists:foreach(fun({Name, T}) ->
      B = case Name of compressed -> T; _ -> term_to_binary(T) end,
      io:format("~s ~s~n", [Name, binary:encode_hex(B)])
    end, Terms).
