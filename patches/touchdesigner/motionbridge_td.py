"""motionbridge for TouchDesigner: builds, inside the COMP this Text DAT sits in, a network that
subscribes to the daemon, draws the dancers and sends controls back.

Run it once (right-click the Text DAT > Run Script); running it again rebuilds the same nodes. It makes:
  mb_in          OSC In CHOP on port 7702 (this network's own: 7701 stays free for another client),
                 one channel per argument: motion/<n>/pose0 … pose62 (x y z of the 21 canonical joints).
  mb_out         OSC Out DAT to 127.0.0.1:7700: op('mb_out').sendOSC('/emotion', ['happy', 1.0]).
  mb_subscribe   Timer CHOP + CHOP Execute DAT: /bridge/subscribe 7702 now and every 20 s.
  mb_joints1, 2  Script CHOPs: body 1's and body 2's pose channels → 21 samples of tx ty tz each.
  mb_body1, 2    Geometry COMPs: a Sphere SOP instanced at every joint (Instance OP: mb_joints<n>),
                 in the colour of mb_colour1, 2 (Constant MATs): body 1 orange (a soloist, or a
                 duet's lead), body 2 blue (the partner, in a show served with --partner).
  mb_camera, mb_light, mb_render   Camera COMP, Light COMP, Render TOP: the picture.
  mb_controls    Container COMP of Slider COMPs: one per emotion label, variance, energy, intensity; a Panel
                 Execute DAT sends each change (/emotion/<label>, /variance, /energy, /intensity).
  mb_actions     Container COMP of radio Button COMPs (none, walk, run, bow); a Panel Execute DAT sends the one
                 pressed (/action <name>). A model trained without actions refuses all but none, and says why.
  mb_midi        MIDI In CHOP + CHOP Execute DAT: each control change → /midi/cc channel number value.
The OSC In CHOP's queue adds latency: its Queue parameters can be set low, since the daemon paces frames.
Only documented operator types and parameters are used.
"""

LISTEN, DAEMON_HOST, DAEMON_PORT = 7702, "127.0.0.1", 7700
LABELS = ["normal", "happy", "sad", "angry", "proud", "not-confident", "tired"]   # the shipped solo model's
ACTIONS = ["none", "walk", "run", "bow"]          # what a model trained on Bandai's named clips can be asked to do
comp = parent()


def node(kind, name, x, y):
    """The named node, made if missing, placed on the network grid."""
    n = comp.op(name) or comp.create(kind, name)
    n.nodeX, n.nodeY = x, y
    return n


# ---- OSC in and out, and the subscription ----
osc_in = node(oscinCHOP, "mb_in", 0, 0)
osc_in.par.port = LISTEN
osc_out = node(oscoutDAT, "mb_out", 0, -200)
osc_out.par.netaddress = DAEMON_HOST
osc_out.par.port = DAEMON_PORT

timer = node(timerCHOP, "mb_subscribe", 200, -200)
timer.par.length = 20
timer.par.cycle = True
timer.par.cyclelimit = False
timer.par.play = True
renew = node(chopexecuteDAT, "mb_subscribe_exec", 400, -200)
renew.par.chop = timer.path
renew.par.offtoon = True
renew.text = f"""# /bridge/subscribe {LISTEN}: at the start of every 20 s cycle (the daemon lets it lapse after 60 s)
def onOffToOn(channel, sampleIndex, val, prev):
    op('mb_out').sendOSC('/bridge/subscribe', [{LISTEN}])
"""
osc_out.sendOSC("/bridge/subscribe", [LISTEN])

# ---- the joints, as instances: body 1 (the dancer, or a duet's lead) orange, body 2 (the partner) blue ----
JOINTS_SCRIPT = """# /motion/<n>/pose's 63 channels -> 21 samples of tx ty tz (metres, Y up); n is this CHOP's last character
def onCook(scriptOp):
    scriptOp.clear()
    source = scriptOp.inputs[0]
    values = [source[f'motion/{scriptOp.name[-1]}/pose{i}'] for i in range(63)]
    if any(v is None for v in values):
        return                       # no such body: a solo show streams one
    scriptOp.numSamples = 21
    for axis, name in enumerate(('tx', 'ty', 'tz')):
        channel = scriptOp.appendChan(name)
        for j in range(21):
            channel[j] = values[3 * j + axis].eval()
"""
bodies = []
for n, colour in ((1, (0.92, 0.47, 0.24)), (2, (0.24, 0.6, 0.92))):
    joints = node(scriptCHOP, f"mb_joints{n}", 200, -100 * n)
    joints.inputConnectors[0].connect(osc_in)
    joints.text = JOINTS_SCRIPT
    joints.par.callbacks = joints.path   # the Script CHOP reads its callbacks from its own text
    material = node(constantMAT, f"mb_colour{n}", 600, -100 * n)
    material.par.colorr, material.par.colorg, material.par.colorb = colour
    body = node(geometryCOMP, f"mb_body{n}", 400, -100 * n)
    for child in body.children:
        child.destroy()
    sphere = body.create(sphereSOP, "joint")
    sphere.par.radx = sphere.par.rady = sphere.par.radz = 0.05
    sphere.render = sphere.display = True
    body.par.material = material.path
    body.par.instancing = True
    body.par.instanceop = joints.path
    body.par.instancetx, body.par.instancety, body.par.instancetz = "tx", "ty", "tz"
    bodies.append(body)

camera = node(cameraCOMP, "mb_camera", 400, 200)
camera.par.tx, camera.par.ty, camera.par.tz = 0, 1.2, 5
light = node(lightCOMP, "mb_light", 400, 400)
light.par.tx, light.par.ty, light.par.tz = 2, 4, 4
render = node(renderTOP, "mb_render", 600, 0)
render.par.camera = camera.path
render.par.geometry = " ".join(b.path for b in bodies)
render.par.lights = light.path
render.par.resolutionw, render.par.resolutionh = 1280, 720

# ---- controls: one slider per label, variance, energy, intensity ----
controls = node(containerCOMP, "mb_controls", 0, 400)
ranges = {"variance": (0.5, 20.0, "log"), "energy": (0.25, 4.0, "log"), "intensity": (0.0, 4.0, "linear")}
controls.par.w, controls.par.h = 260, 22 * (len(LABELS) + len(ranges))
for i, name in enumerate(LABELS + list(ranges)):
    slider = controls.op(name) or controls.create(sliderCOMP, name)
    slider.par.w, slider.par.h = 260, 20
    slider.par.y = controls.par.h - 22 * (i + 1)
    slider.nodeX, slider.nodeY = 0, -120 * i
sends = node(panelexecuteDAT, "mb_controls_exec", 200, 400)
sends.par.panels = " ".join(f"{controls.path}/{n}" for n in LABELS + list(ranges))
sends.par.valuechange = True
sends.text = f"""# a slider moved -> its OSC message (sliders run 0-1; variance, energy and intensity are mapped
# onto their ranges: the first two on a log scale, intensity linearly, 0.25 of the way is 1, the model as trained;
# 0.5 is 2, where the daemon starts)
RANGES = {ranges!r}
def onValueChange(panelValue, prev):
    if panelValue.name != 'u':       # a horizontal slider's value; not its clicks
        return
    name = panelValue.owner.name
    if name in RANGES:
        low, high, scale = RANGES[name]
        value = low * (high / low) ** panelValue.val if scale == "log" else low + (high - low) * panelValue.val
        op('mb_out').sendOSC('/' + name, [value])
    else:
        op('mb_out').sendOSC('/emotion/' + name, [panelValue.val])
"""

# ---- actions: radio buttons, the one pressed is sent ----
actions = node(containerCOMP, "mb_actions", 0, 200)
actions.par.w, actions.par.h = 260, 22
for i, name in enumerate(ACTIONS):
    button = actions.op(name) or actions.create(buttonCOMP, name)
    button.par.label = name
    button.par.buttontype = "radiodown"     # the buttons of one container are one radio group
    button.par.w, button.par.h = 260 // len(ACTIONS), 20
    button.par.x = i * (260 // len(ACTIONS))
    button.nodeX, button.nodeY = 0, -120 * i
pressed = node(panelexecuteDAT, "mb_actions_exec", 200, 200)
pressed.par.panels = " ".join(f"{actions.path}/{n}" for n in ACTIONS)
pressed.par.offtoon = True
pressed.text = """# a button pressed -> /action <its name>
def onOffToOn(panelValue):
    if panelValue.name == 'state':
        op('mb_out').sendOSC('/action', [panelValue.owner.name])
"""

# ---- MIDI: every control change -> /midi/cc (the daemon's map decides what it moves) ----
midi = node(midiinCHOP, "mb_midi", 0, 600)
midi_exec = node(chopexecuteDAT, "mb_midi_exec", 200, 600)
midi_exec.par.chop = midi.path
midi_exec.par.valuechange = True
midi_exec.text = """# MIDI In CHOP channels are named ch<channel>ctrl<number>, with values 0-1
import re
def onValueChange(channel, sampleIndex, val, prev):
    m = re.match(r'ch(\\d+)ctrl(\\d+)', channel.name)
    if m:
        op('mb_out').sendOSC('/midi/cc', [int(m.group(1)), int(m.group(2)), round(val * 127)])
"""
