// motionbridge: draws the dancers from /motion/<n>/pose (canonical layout, metres, Y up) in a jsui.
// Messages: pose1 x y z ..., pose2 x y z ... (63 numbers each). Dancer 1 orange, dancer 2 blue.
inlets = 1;
outlets = 0;
mgraphics.init();
mgraphics.relative_coords = 0;
mgraphics.autofill = 0;

// each joint's parent in the canonical 21-joint skeleton (-1: the pelvis, the root)
var PARENTS = [-1, 0, 1, 2, 3, 2, 5, 6, 7, 2, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19];
var COLOURS = [[0.92, 0.47, 0.24, 1], [0.27, 0.59, 0.92, 1]];
var poses = [null, null];

function pose1() { poses[0] = arrayfromargs(arguments); mgraphics.redraw(); }
function pose2() { poses[1] = arrayfromargs(arguments); mgraphics.redraw(); }

// a front view turned 30°, slightly from above, centred on dancer 1's pelvis (the view follows)
function project(p, j, cx, cz, w, h) {
    var x = p[3 * j] - cx, y = p[3 * j + 1], z = p[3 * j + 2] - cz;
    var s = h / 3.2;
    return [w / 2 + s * (x * 0.87 + z * 0.5), h * 0.93 - s * (y + 0.12 * (z * 0.87 - x * 0.5))];
}

function paint() {
    var w = box.rect[2] - box.rect[0], h = box.rect[3] - box.rect[1];
    mgraphics.set_source_rgba(0.12, 0.13, 0.15, 1);
    mgraphics.rectangle(0, 0, w, h);
    mgraphics.fill();
    if (!poses[0] || poses[0].length < 63) return;
    var cx = poses[0][0], cz = poses[0][2];
    mgraphics.set_line_width(Math.max(2, h / 90));
    mgraphics.set_line_cap("round");
    for (var k = 0; k < poses.length; k++) {
        var p = poses[k];
        if (!p || p.length < 63) continue;
        mgraphics.set_source_rgba(COLOURS[k][0], COLOURS[k][1], COLOURS[k][2], COLOURS[k][3]);
        for (var j = 1; j < PARENTS.length; j++) {
            var a = project(p, j, cx, cz, w, h), b = project(p, PARENTS[j], cx, cz, w, h);
            mgraphics.move_to(a[0], a[1]);
            mgraphics.line_to(b[0], b[1]);
            mgraphics.stroke();
        }
        var head = project(p, 4, cx, cz, w, h);
        mgraphics.ellipse(head[0] - h / 45, head[1] - h / 45, h / 22.5, h / 22.5);
        mgraphics.fill();
    }
}
