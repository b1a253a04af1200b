"""motionbridge from Python (a notebook, Blender's console): run beside `motionbridge serve`.
    python patches/python/example.py [PORT]"""
import sys

from bridge.client import Client

with Client("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 7700) as bridge:
    print("labels:", ", ".join(bridge.schema.labels))
    bridge.emotion(happy=1.0)                      # /emotion happy 1
    bridge.set("energy", 1.5)                      # /energy 1.5
    frames = [bridge.frame() for _ in range(30)]   # one second at 30 fps
    head = [f.joint("head") for f in frames]       # (x, y, z) of dancer 1's head, metres, Y up
    print(f"frame {frames[-1].index}: head at {head[-1].round(2)}, moved {sum(abs(head[-1] - head[0])):.2f} m")
