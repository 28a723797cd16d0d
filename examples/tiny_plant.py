#!/usr/bin/env python3
"""The smallest edge-plant: a cart to park at x = 0, in plain Python (standard library only).

    edge-ctl train --plant exec:'python3 examples/tiny_plant.py'

State x (position, m) and v (velocity, m/s); action: force a in [-2, 2]; dt = 0.1 s;
    v' = 0.95 v + 0.1 a,   x' = x + 0.1 v'
reward -(x^2 + 0.1 v^2 + 0.01 a^2); episodes of 50 steps from x ~ U(-1, 1), v ~ U(-0.5, 0.5) drawn
from the reset seed; the episode terminates (done 1) if the cart leaves the track |x| > 5.
The observation box is x in [-5, 5], v unbounded (-inf, inf), so edge-ctl's fallback scale applies.

It speaks the protocol over standard input/output (or, with --listen PATH, on a Unix socket, one
thread and one cart per connection) and doubles as the test plant of edge-ctl's protocol tests:
    --obs N --act M     other sizes (extra observations are 0, extra actions only cost)
    --episode K         episode length (default 50)
    --done-at K         report done 1 at step K of every episode
    --fault KIND[@K]    misbehave at step K of the first episode (without @K: in the handshake):
        hang       stop answering           exit    write to stderr, exit with status 3
        quit       exit 0 without a word    nan     a NaN observation
        inf-reward an infinite reward       short   one observation value too few
        garbage    a word among the numbers unexpected  'hello there' instead of an answer
        error      'error motor overheated' badflag  'done 2'
        version2   handshake 'edge-plant 2' inf-action  an infinite action bound
        partial    half a line, then exit 5
    --fault-episode E   misbehave in the E-th episode (counting every reset) instead of the first
"""
import argparse
import math
import os
import random
import socketserver
import sys
import time


def parse_arguments():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--obs", type=int, default=2)
    p.add_argument("--act", type=int, default=1)
    p.add_argument("--episode", type=int, default=50)
    p.add_argument("--done-at", type=int, default=0)
    p.add_argument("--fault", default="")
    p.add_argument("--fault-episode", type=int, default=1)
    p.add_argument("--listen", default="")
    return p.parse_args()


class Cart:
    def __init__(self, args):
        self.args = args
        kind, _, at = args.fault.partition("@")
        self.fault, self.fault_step = kind, int(at) if at else 0
        self.x = self.v = 0.0
        self.steps = 0
        self.episodes = 0

    def handshake(self):
        a, n = self.args, self.args.obs
        if self.fault == "hang" and self.fault_step == 0:
            time.sleep(3600)
        if self.fault == "exit" and self.fault_step == 0:
            sys.stderr.write("tiny_plant: cannot open the simulated cart\n")
            sys.exit(3)
        low = ["-5", "-inf"] + ["-1"] * (n - 2)
        high = ["5", "inf"] + ["1"] * (n - 2)
        act_high = "inf" if self.fault == "inf-action" else "2"
        return [
            "edge-plant 2" if self.fault == "version2" else "edge-plant 1",
            "name tiny cart",
            "observation %d %s %s" % (n, " ".join(low[:n]), " ".join(high[:n])),
            "action %d %s %s" % (a.act, " ".join(["-2"] * a.act), " ".join([act_high] * a.act)),
            "period 0.1",
            "episode %d" % a.episode,
            "ready",
        ]

    def observation(self):
        values = [self.x, self.v] + [0.0] * (self.args.obs - 2)
        return " ".join(repr(v) for v in values[: self.args.obs])

    def reset(self, seed):
        rng = random.Random(seed)
        self.x, self.v = rng.uniform(-1, 1), rng.uniform(-0.5, 0.5)
        self.steps = 0
        self.episodes += 1
        return "obs " + self.observation()

    def step(self, action):
        a = action[0]
        self.v = 0.95 * self.v + 0.1 * a
        self.x = self.x + 0.1 * self.v
        self.steps += 1
        reward = -(self.x ** 2 + 0.1 * self.v ** 2 + 0.01 * sum(u * u for u in action))
        done = abs(self.x) > 5 or self.steps == self.args.done_at
        truncated = not done and self.steps >= self.args.episode
        reply = "obs %s reward %r done %d truncated %d" % (self.observation(), reward, done, truncated)
        if self.episodes == self.args.fault_episode and self.steps == self.fault_step:
            reply = self.misbehave(reply)
        return reply

    def misbehave(self, reply):
        f = self.fault
        if f == "hang":
            time.sleep(3600)
        if f == "exit":
            sys.stderr.write("tiny_plant: the cart fell off the table\n")
            sys.exit(3)
        if f == "quit":
            sys.exit(0)
        if f == "partial":
            return None  # handled by the caller: half a line, then exit 5
        replacements = {
            "nan": lambda: "obs nan %r reward -1.0 done 0 truncated 0" % self.v,
            "inf-reward": lambda: "obs %s reward -inf done 0 truncated 0" % self.observation(),
            "short": lambda: "obs %r reward -1.0 done 0 truncated 0" % self.x,
            "garbage": lambda: "obs %r zebra reward -1.0 done 0 truncated 0" % self.x,
            "unexpected": lambda: "hello there",
            "error": lambda: "error motor overheated",
            "badflag": lambda: "obs %s reward -1.0 done 2 truncated 0" % self.observation(),
        }
        return replacements[f]() if f in replacements else reply


def serve(cart, read_line, write_line):
    """Speaks the protocol until 'close' or end of file."""
    for line in cart.handshake():
        write_line(line)
    while True:
        line = read_line()
        if not line:
            return
        words = line.split()
        if not words:
            continue
        if words[0] == "close":
            return
        if words[0] == "reset":
            write_line(cart.reset(int(words[1])))
        elif words[0] == "step":
            action = [float(w) for w in words[1:]]
            if len(action) != cart.args.act:
                write_line("error expected %d actions, got %d" % (cart.args.act, len(action)))
                continue
            reply = cart.step(action)
            if reply is None:
                write_line("obs 0.1", newline=False)
                sys.exit(5)
            write_line(reply)
        else:
            write_line("error unknown request %r" % words[0])


def main():
    args = parse_arguments()
    if args.listen:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def read_line():
                    return self.rfile.readline().decode()

                def write_line(text, newline=True):
                    self.wfile.write((text + ("\n" if newline else "")).encode())
                    self.wfile.flush()

                serve(Cart(args), read_line, write_line)

        if os.path.exists(args.listen):
            os.unlink(args.listen)
        with socketserver.ThreadingUnixStreamServer(args.listen, Handler) as server:
            server.daemon_threads = True
            server.serve_forever()
        return
    # The protocol gets the original standard output; anything else printed goes to standard error.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def write_line(text, newline=True):
        protocol.write(text + ("\n" if newline else ""))
        protocol.flush()

    serve(Cart(args), sys.stdin.readline, write_line)


if __name__ == "__main__":
    main()
