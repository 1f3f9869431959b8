/**
 * An Elixir 1.14 node (the host's Elixir on its OTP, driven through stdin like test/support/otp.ts's
 * erl nodes) running what Phoenix.PubSub with its default PG2 adapter does (phoenix_pubsub v2
 * lib/phoenix/pubsub.ex and lib/phoenix/pubsub/pg2.ex), since Phoenix itself cannot be installed
 * here: the pg scope 'Elixir.Phoenix.PubSub', a Registry with duplicate keys as the subscriber
 * table, one registered worker per pool group joined to that group, broadcasts to one group's
 * remote members as {forward_to_local, Topic, Message, Dispatcher}, dispatch through
 * Dispatcher:dispatch/3. Two PubSub servers are started: MyApp.PubSub (pool 1), Pool.PubSub (pool 3).
 */
import { spawnSync } from 'node:child_process';
import { ErlNode, writeErlFiles, type Otp } from '../support/otp.js';

/** The elixir application's directory, or undefined when Elixir is not installed. */
export const elixirLib: string | undefined =
  spawnSync('elixir', ['-e', 'IO.write(:code.lib_dir(:elixir))'], { encoding: 'utf8', timeout: 60_000 }).stdout?.trim() || undefined;

export const PHOENIX_LIKE = String.raw`
defmodule Phoenix.PubSub do
  # Phoenix.PubSub + Phoenix.PubSub.PG2 without the supervision tree.
  def start(name, pool_size) do
    case :pg.start(__MODULE__) do
      {:ok, _} -> :ok
      {:error, {:already_started, _}} -> :ok
    end
    {:ok, reg} = Registry.start_link(keys: :duplicate, name: name, partitions: 2)
    Process.unlink(reg)
    adapter = Module.concat(name, "Adapter")
    groups = groups(adapter, pool_size)
    :persistent_term.put(adapter, List.to_tuple(groups))
    for g <- groups, do: {:ok, _} = GenServer.start(Phoenix.PubSub.PG2Worker, {name, g}, name: g)
    :ok
  end

  def groups(adapter, n), do: [adapter | for(i <- 2..n//1, do: :"#{adapter}_#{i}")]

  def subscribe(pubsub, topic, opts \\ []) do
    {:ok, _} = Registry.register(pubsub, topic, opts[:metadata])
    :ok
  end

  def broadcast(pubsub, topic, message, dispatcher \\ __MODULE__) do
    groups = :persistent_term.get(Module.concat(pubsub, "Adapter"))
    group = elem(groups, :erlang.phash2(self(), tuple_size(groups)))
    for pid <- :pg.get_members(__MODULE__, group), node(pid) != node() do
      send(pid, {:forward_to_local, topic, message, dispatcher})
    end
    local_dispatch(pubsub, :none, topic, message, dispatcher)
  end

  def local_dispatch(pubsub, from, topic, message, dispatcher) do
    Registry.dispatch(pubsub, topic, {dispatcher, :dispatch, [from, message]})
    :ok
  end

  def dispatch(entries, :none, message) do
    for {pid, _} <- entries, do: send(pid, message)
    :ok
  end

  def dispatch(entries, from, message) do
    for {pid, _} <- entries, pid != from, do: send(pid, message)
    :ok
  end
end

defmodule Phoenix.PubSub.PG2Worker do
  use GenServer
  def init({name, group}) do
    :ok = :pg.join(Phoenix.PubSub, group, self())
    {:ok, name}
  end
  def handle_info({:forward_to_local, topic, message, dispatcher}, pubsub) do
    Phoenix.PubSub.local_dispatch(pubsub, :none, topic, message, dispatcher)
    {:noreply, pubsub}
  end
  def handle_info(_, pubsub), do: {:noreply, pubsub}
end

defmodule Phoenix.Socket.Broadcast do
  defstruct [:topic, :event, :payload]
end

defmodule TagDispatcher do
  def dispatch(entries, _from, message) do
    for {pid, meta} <- entries, do: send(pid, {:tagged, meta, message})
    :ok
  end
end

defmodule Collector do
  # A subscriber that keeps what it gets.
  def start(pubsub, topic, meta \\ nil) do
    parent = self()
    pid = spawn(fn ->
      Phoenix.PubSub.subscribe(pubsub, topic, metadata: meta)
      send(parent, {:subscribed, self()})
      loop([])
    end)
    receive do
      {:subscribed, ^pid} -> pid
    after 5000 -> exit(:timeout)
    end
  end

  defp loop(acc) do
    receive do
      {:"$get", from} -> send(from, {:"$got", Enum.reverse(acc)}); loop(acc)
      m -> loop([m | acc])
    end
  end

  def got(pid) do
    send(pid, {:"$get", self()})
    receive do
      {:"$got", l} -> l
    after 5000 -> exit(:timeout)
    end
  end

  # The messages once there are at least n (polls every 20 ms, at most ms).
  def wait(pid, n, ms \\ 10_000) do
    l = got(pid)
    cond do
      length(l) >= n -> l
      ms <= 0 -> {:timeout, l}
      true -> Process.sleep(20); wait(pid, n, ms - 20)
    end
  end

  # n broadcasts, each from a new process (so phash2(self()) picks every pool group).
  def burst(pubsub, topic, n) do
    for i <- 1..n do
      parent = self()
      spawn(fn -> Phoenix.PubSub.broadcast(pubsub, topic, {:burst, i}); send(parent, :sent) end)
      receive do :sent -> :ok after 5000 -> exit(:timeout) end
    end
    :ok
  end
end
`;

/**
 * Starts the Elixir node `name` with the module above loaded and both PubSub servers running;
 * `Scope__` is bound to the scope pid in its shell.
 */
export async function startPhoenixLike(otp: Otp, o: { name: string; cookie: string; epmdPort: number }): Promise<ErlNode> {
  if (!elixirLib) throw new Error('elixir is not installed');
  const files = writeErlFiles(otp, { 'phoenix_like.ex': PHOENIX_LIKE });
  const e = await ErlNode.start(otp, {
    name: o.name,
    cookie: o.cookie,
    epmdPort: o.epmdPort,
    args: ['-pa', `${elixirLib}/ebin`, '-kernel', 'inet_dist_use_interface', '{127,0,0,1}'],
  });
  try {
    await e.evalText(`{ok, _} = application:ensure_all_started(elixir), _ = 'Elixir.Code':compile_file(<<"${files.erlPath}/phoenix_like.ex">>), ok`);
    await e.evalText(`ok = 'Elixir.Phoenix.PubSub':start('Elixir.MyApp.PubSub', 1), ok = 'Elixir.Phoenix.PubSub':start('Elixir.Pool.PubSub', 3), Scope__ = whereis('Elixir.Phoenix.PubSub'), ok`);
  } catch (err) {
    await e.stop();
    throw err;
  } finally {
    files.remove();
  }
  return e;
}
