{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 6,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   80,
   80,
   840,
   440
  ],
  "boxes": [
   {
    "box": {
     "id": "obj-title",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      10,
      620,
      22
     ],
     "text": "motionbridge for Max: frames in on 7701, controls out to 7700. Start the daemon: motionbridge serve"
    }
   },
   {
    "box": {
     "id": "obj-recv",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20,
      50,
      120,
      22
     ],
     "text": "udpreceive 7701",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-route",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 6,
     "patching_rect": [
      20,
      90,
      560,
      22
     ],
     "text": "route /motion/frame /motion/1/pose /motion/1/emotion /motion/1/target /bridge/error",
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-frame",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      130,
      90,
      22
     ],
     "text": "print FRAME"
    }
   },
   {
    "box": {
     "id": "obj-pose-out",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      130,
      130,
      90,
      22
     ],
     "text": "print POSE"
    }
   },
   {
    "box": {
     "id": "obj-emo",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      250,
      130,
      100,
      22
     ],
     "text": "print EMOTION"
    }
   },
   {
    "box": {
     "id": "obj-target",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      370,
      130,
      100,
      22
     ],
     "text": "print TARGET"
    }
   },
   {
    "box": {
     "id": "obj-err",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      490,
      130,
      100,
      22
     ],
     "text": "print ERROR"
    }
   },
   {
    "box": {
     "id": "obj-c1",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      220,
      420,
      22
     ],
     "text": "Emotion by name: click a message. Numbers may be ints or floats."
    }
   },
   {
    "box": {
     "id": "obj-happy",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      250,
      120,
      22
     ],
     "text": "/emotion happy 1.",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-sad",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      150,
      250,
      170,
      22
     ],
     "text": "/emotion sad 0.7 tired 0.3",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-va",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      330,
      290,
      120,
      22
     ],
     "text": "/emotion/va $1 $2",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-pack",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      330,
      250,
      80,
      22
     ],
     "text": "pack 0. 0.",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-c2",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      420,
      250,
      170,
      22
     ],
     "text": "valence, arousal in -1..1"
    }
   },
   {
    "box": {
     "id": "obj-var",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      20,
      290,
      60,
      22
     ],
     "text": "flonum",
     "outlettype": [
      "",
      "bang"
     ]
    }
   },
   {
    "box": {
     "id": "obj-varmsg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      320,
      90,
      22
     ],
     "text": "/variance $1",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-sampler",
     "maxclass": "umenu",
     "numinlets": 1,
     "numoutlets": 3,
     "patching_rect": [
      130,
      290,
      100,
      22
     ],
     "text": "umenu",
     "outlettype": [
      "int",
      "",
      ""
     ],
     "items": [
      "mean",
      ",",
      "random",
      ",",
      "dynamic",
      ",",
      "emotion"
     ]
    }
   },
   {
    "box": {
     "id": "obj-samplermsg",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      130,
      320,
      110,
      22
     ],
     "text": "prepend /sampler",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-ping",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      470,
      320,
      100,
      22
     ],
     "text": "/bridge/ping 1",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-send",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      380,
      160,
      22
     ],
     "text": "udpsend 127.0.0.1 7700"
    }
   },
   {
    "box": {
     "id": "obj-energy",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      590,
      290,
      60,
      22
     ],
     "text": "flonum",
     "outlettype": [
      "",
      "bang"
     ]
    }
   },
   {
    "box": {
     "id": "obj-energymsg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      590,
      320,
      80,
      22
     ],
     "text": "/energy $1",
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-c3",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      590,
      260,
      220,
      22
     ],
     "text": "energy: 1 = the emotion's own pace"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-recv",
      0
     ],
     "destination": [
      "obj-route",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-route",
      0
     ],
     "destination": [
      "obj-frame",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-route",
      2
     ],
     "destination": [
      "obj-emo",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-route",
      3
     ],
     "destination": [
      "obj-target",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-route",
      4
     ],
     "destination": [
      "obj-err",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-happy",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-sad",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-va",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-varmsg",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-samplermsg",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ping",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-pack",
      0
     ],
     "destination": [
      "obj-va",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-var",
      0
     ],
     "destination": [
      "obj-varmsg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-sampler",
      1
     ],
     "destination": [
      "obj-samplermsg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-route",
      1
     ],
     "destination": [
      "obj-pose-out",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-energy",
      0
     ],
     "destination": [
      "obj-energymsg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-energymsg",
      0
     ],
     "destination": [
      "obj-send",
      0
     ]
    }
   }
  ]
 }
}
