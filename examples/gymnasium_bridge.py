#!/usr/bin/env python3
"""Any Gymnasium environment with a Box action space as an edge-ctl plant (edge-plant protocol 1).

Setup, once, in a virtual environment:

    python3 -m venv .venv-gym
    .venv-gym/bin/pip install gymnasium            # box2d extras for LunarLander: "gymnasium[box2d]"

Then let edge-ctl start it:

    edge-ctl train --plant exec:'.venv-gym/bin/python examples/gymnasium_bridge.py Pendulum-v1'
    edge-ctl train --plant exec:'.venv-gym/bin/python examples/gymnasium_bridge.py MountainCarContinuous-v0'
    edge-ctl train --plant exec:'.venv-gym/bin/python examples/gymnasium_bridge.py LunarLander-v3 --make continuous=True'

or run it as a server that edge-ctl connects to (one environment per connection):

    .venv-gym/bin/python examples/gymnasium_bridge.py Pendulum-v1 --listen /tmp/pendulum.sock &
    edge-ctl train --plant unix:/tmp/pendulum.sock

The handshake sends the flattened observation space's bounds (a Dict or Discrete observation space is
flattened with gymnasium.spaces.flatten; unbounded dimensions go as inf), the action bounds, the
time limit (env.spec.max_episode_steps, or --max-episode-steps) and the period (env.unwrapped.dt, or
1 / metadata["render_fps"], else 0). `reset SEED` calls env.reset(seed=SEED); `step A..` calls
env.step with the action (shaped and typed like the action space) and answers with the observation,
the reward and Gymnasium's terminated / truncated flags. Numbers go out with repr(float(x)), which
round-trips; an exception inside the environment is answered with one `error ...` line.

Anything the environment prints goes to standard error, never into the protocol stream; edge-ctl shows
the last lines of standard error if the bridge fails.
"""
import argparse
import ast
import os
import socketserver
import sys


def parse_arguments():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("env_id", help="a registered Gymnasium id, e.g. Pendulum-v1")
    p.add_argument("--make", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument for gymnasium.make (a Python literal), repeatable")
    p.add_argument("--max-episode-steps", type=int, default=None,
                   help="time limit when the environment has none (also overrides it)")
    p.add_argument("--listen", default="", metavar="PATH",
                   help="serve on this Unix socket instead of standard input/output")
    return p.parse_args()


def make_keywords(pairs):
    keywords = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            sys.exit("gymnasium_bridge: --make needs KEY=VALUE, got %r" % pair)
        try:
            keywords[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            keywords[key] = text
    return keywords


def number(x):
    return repr(float(x))


class Bridge:
    """One environment speaking the protocol."""

    def __init__(self, args, gym, np):
        self.gym, self.np = gym, np
        keywords = make_keywords(args.make)
        if args.max_episode_steps is not None:
            keywords["max_episode_steps"] = args.max_episode_steps
        self.env = gym.make(args.env_id, **keywords)
        self.name = args.env_id
        action_space = self.env.action_space
        if not isinstance(action_space, gym.spaces.Box):
            sys.exit("gymnasium_bridge: %s has a %s action space; edge-ctl needs a Box"
                     % (args.env_id, type(action_space).__name__))
        if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
            sys.exit("gymnasium_bridge: %s has unbounded actions; edge-ctl needs finite action bounds" % args.env_id)
        self.action_space = action_space
        space = self.env.observation_space
        self.flat_space = space if isinstance(space, gym.spaces.Box) else gym.spaces.flatten_space(space)
        self.observation_space = space
        spec = self.env.spec
        self.episode_steps = spec.max_episode_steps if spec is not None else None
        if not self.episode_steps:
            sys.exit("gymnasium_bridge: %s has no time limit; pass --max-episode-steps N" % args.env_id)
        dt = getattr(self.env.unwrapped, "dt", None)
        fps = (self.env.metadata or {}).get("render_fps")
        self.period = float(dt) if dt else (1.0 / fps if fps else 0.0)

    def handshake(self):
        low = self.np.asarray(self.flat_space.low, dtype=float).ravel()
        high = self.np.asarray(self.flat_space.high, dtype=float).ravel()
        a_low = self.np.asarray(self.action_space.low, dtype=float).ravel()
        a_high = self.np.asarray(self.action_space.high, dtype=float).ravel()
        return [
            "edge-plant 1",
            "name " + self.name,
            "observation %d %s %s" % (low.size, " ".join(map(number, low)), " ".join(map(number, high))),
            "action %d %s %s" % (a_low.size, " ".join(map(number, a_low)), " ".join(map(number, a_high))),
            "episode %d" % self.episode_steps,
            "period %r" % self.period,
            "ready",
        ]

    def observation(self, obs):
        if self.flat_space is not self.observation_space:
            obs = self.gym.spaces.flatten(self.observation_space, obs)
        return " ".join(map(number, self.np.asarray(obs, dtype=float).ravel()))

    def answer(self, words):
        """The reply to one request, or None for `close`."""
        request = words[0]
        if request == "reset":
            obs, _ = self.env.reset(seed=int(words[1]))
            return "obs " + self.observation(obs)
        if request == "step":
            space = self.action_space
            values = [float(w) for w in words[1:]]
            if len(values) != space.low.size:
                return "error expected %d action values, got %d" % (space.low.size, len(values))
            action = self.np.asarray(values, dtype=space.dtype).reshape(space.shape)
            obs, reward, terminated, truncated, _ = self.env.step(action)
            return "obs %s reward %s done %d truncated %d" % (
                self.observation(obs), number(reward), bool(terminated), bool(truncated))
        if request == "close":
            return None
        return "error unknown request " + request

    def serve(self, read_line, write_line):
        for line in self.handshake():
            write_line(line)
        while True:
            line = read_line()
            if not line:
                break
            words = line.split()
            if not words:
                continue
            try:
                reply = self.answer(words)
            except Exception as error:  # reported to edge-ctl as one line, never a traceback on the wire
                reply = "error %s: %s" % (type(error).__name__, " ".join(str(error).split()))
            if reply is None:
                break
            write_line(reply)
        self.env.close()


def main():
    args = parse_arguments()
    # The protocol keeps the original standard output; anything else printed goes to standard error.
    protocol = None
    if not args.listen:
        protocol = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
    try:
        import gymnasium as gym
        import numpy as np
    except ImportError as error:
        sys.exit("gymnasium_bridge: cannot import %s (pip install gymnasium)" % error.name)

    if args.listen:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def write_line(text):
                    self.wfile.write((text + "\n").encode())
                    self.wfile.flush()
                Bridge(args, gym, np).serve(lambda: self.rfile.readline().decode(), write_line)

        if os.path.exists(args.listen):
            os.unlink(args.listen)
        with socketserver.ThreadingUnixStreamServer(args.listen, Handler) as server:
            server.daemon_threads = True
            print("gymnasium_bridge: serving %s on %s" % (args.env_id, args.listen), file=sys.stderr)
            server.serve_forever()
        return

    def write_line(text):
        protocol.write(text + "\n")
        protocol.flush()

    Bridge(args, gym, np).serve(sys.stdin.readline, write_line)


if __name__ == "__main__":
    main()
