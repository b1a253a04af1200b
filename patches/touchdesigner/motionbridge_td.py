"""motionbridge for TouchDesigner: builds the nodes that talk to the daemon.

Paste into a Text DAT inside the COMP that should hold them and run it (right-click > Run Script).
It creates:
  motionbridge_in   OSC In CHOP on port 7701: every /motion/... address becomes channels
                    (/motion/1/pose → motion/1/pose0 … pose62 in the canonical layout; start the
                    daemon with --per-joint for one named channel triple per joint, e.g.
                    motion/1/l_wrist0..2, and --layout mediapipe33 for MediaPipe names).
  motionbridge_out  OSC Out DAT to 127.0.0.1:7700, for controls:
                    op('motionbridge_out').sendOSC('/emotion', ['happy', 1.0])
                    op('motionbridge_out').sendOSC('/emotion/va', [0.8, 0.5])
                    op('motionbridge_out').sendOSC('/variance', [4.0])
                    op('motionbridge_out').sendOSC('/energy', [1.5])   # 1: the emotion's own pace
  motionbridge_emotion  a Select CHOP of the recognised emotion channels, ready for bars.
The OSC In CHOP's queue adds latency: set its Queue parameters (Min/Max Target Size) low, since
the daemon already paces frames.
"""

PORT_IN, DAEMON_HOST, DAEMON_PORT = 7701, "127.0.0.1", 7700

comp = parent()
osc_in = comp.op("motionbridge_in") or comp.create(oscinCHOP, "motionbridge_in")
osc_in.par.port = PORT_IN
osc_out = comp.op("motionbridge_out") or comp.create(oscoutDAT, "motionbridge_out")
osc_out.par.address = DAEMON_HOST
osc_out.par.port = DAEMON_PORT
emotion = comp.op("motionbridge_emotion") or comp.create(selectCHOP, "motionbridge_emotion")
emotion.par.chop = osc_in.path
emotion.par.channames = "motion/1/emotion*"
emotion.nodeY = osc_in.nodeY - 150
osc_out.nodeY = osc_in.nodeY + 150
osc_out.sendOSC("/bridge/ping", [1])
