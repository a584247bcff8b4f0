"""GLSL sources (GLSL 3.30 core) for :mod:`headcast.render.raster`.

The scene passes write colour only (depth comes from the depth buffer, linearised on read-back); the
triangle-id pass writes ``-Z`` in metres to a float attachment.
Textures are uploaded row 0 first (row 0 = top of the image), which puts the top row at t = 0; a model UV with
the OpenGL bottom-left origin is therefore sampled at ``(u, 1 - v)``.
"""

MESH_VERTEX = """
#version 330
uniform mat4 proj;
in vec3 in_pos;
in vec2 in_uv;
in vec3 in_normal;
in vec2 in_occlusion;
in float in_eye;
out vec2 v_uv;
out vec3 v_normal;
out vec2 v_occlusion;
out vec3 v_pos;
flat out float v_eye;
void main() {
    v_uv = in_uv;
    v_normal = in_normal;
    v_occlusion = in_occlusion;
    v_pos = in_pos;
    v_eye = in_eye;
    gl_Position = proj * vec4(in_pos, 1.0);
}
"""

# mode: 0 unlit, 1 lambert (light_dir, ambient; gamma 2.2), 2 SH light (raster.ShLight: s = n̂ᵀ M n̂ clamped to
# sh_range, channel c times s ** (sh_power[c] · strength map) in linear light, exact sRGB transfer curve as
# texture/lighting.py). Modes 1 and 2 multiply both light factors by the lids' visibility (render/eyes.py): a
# fragment of eye e (v_eye, -1: none) is at distance d from the polylines lid_pts[(2e + k) LID_POINTS ...] of its
# upper (k = 0) and lower (k = 1) lid (camera frame, metres); V = ∏ₖ ½ (1 + dₖ / √(dₖ² + hₖ²)), h = lid_height.
LID_POINTS = 32
"""Points of each lid's polyline in ``lid_pts`` (2 eyes × 2 lids × this)."""
MESH_FRAGMENT = f"""
#version 330
#define LID_POINTS {LID_POINTS}
""" + """
uniform sampler2D tex;
uniform sampler2D strength_tex;
uniform vec3 base_color;
uniform int mode;
uniform vec3 light_dir;
uniform float ambient;
uniform mat4 sh_matrix;
uniform vec3 sh_power;
uniform vec2 sh_range;
uniform float sh_ambient;
uniform vec2 lid_height;
uniform vec3 lid_pts[4 * LID_POINTS];
in vec2 v_uv;
in vec3 v_normal;
in vec2 v_occlusion;
in vec3 v_pos;
flat in float v_eye;
layout(location = 0) out vec4 f_color;
vec3 srgb_to_linear(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(vec3(0.04045), c));
}
vec3 linear_to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));
}
float lid_distance(int first) {
    float best = 1e9;
    for (int i = 0; i < LID_POINTS - 1; ++i) {
        vec3 a = lid_pts[first + i];
        vec3 ab = lid_pts[first + i + 1] - a;
        float t = clamp(dot(v_pos - a, ab) / max(dot(ab, ab), 1e-20), 0.0, 1.0);
        best = min(best, length(v_pos - a - t * ab));
    }
    return best;
}
void main() {
    vec3 albedo = texture(tex, vec2(v_uv.x, 1.0 - v_uv.y)).rgb * base_color;
    vec3 rgb = albedo;
    vec2 lid = vec2(1.0);
    if (v_eye >= 0.0 && mode != 0) {
        int first = int(v_eye + 0.5) * 2 * LID_POINTS;
        vec2 d = vec2(lid_distance(first), lid_distance(first + LID_POINTS));
        lid = 0.5 * (1.0 + d / sqrt(d * d + lid_height * lid_height));
    }
    vec2 occlusion = v_occlusion * (lid.x * lid.y);
    if (mode == 1) {
        vec3 n = normalize(v_normal);
        if (!gl_FrontFacing) n = -n;
        float diffuse = max(dot(n, normalize(light_dir)), 0.0);
        // v_occlusion: per-vertex (ambient, direct) light factors, 1 = open (the mouth cavity: render/mouth.py)
        float light = ambient * occlusion.x + (1.0 - ambient) * diffuse * occlusion.y;
        vec3 lin = pow(albedo, vec3(2.2)) * light;
        rgb = pow(lin, vec3(1.0 / 2.2));
    } else if (mode == 2) {
        vec3 n = normalize(v_normal);
        if (!gl_FrontFacing) n = -n;
        vec4 nh = vec4(n, 1.0);
        float m = texture(strength_tex, vec2(v_uv.x, 1.0 - v_uv.y)).r;
        float s = clamp(dot(nh, sh_matrix * nh), sh_range.x, sh_range.y);
        // the cavity scales the band-0 (ambient) part of the light by v_occlusion.x, the rest by v_occlusion.y
        float amb = min(sh_ambient, s);
        float cavity = (amb * occlusion.x + (s - amb) * occlusion.y) / s;
        rgb = linear_to_srgb(srgb_to_linear(albedo) * pow(vec3(s), sh_power * m) * cavity);
    }
    f_color = vec4(rgb, 1.0);
}
"""

LINES_VERTEX = """
#version 330
uniform mat4 proj;
in vec3 in_pos;
in vec4 in_color;
out vec4 v_color;
void main() {
    v_color = in_color;
    gl_Position = proj * vec4(in_pos, 1.0);
}
"""

LINES_FRAGMENT = """
#version 330
in vec4 v_color;
layout(location = 0) out vec4 f_color;
void main() {
    f_color = vec4(v_color.rgb, 1.0);
}
"""

# Kajiya-Kay strand shading (Kajiya & Kay 1989): diffuse ∝ sin(T, L), specular ∝ (T·L T·V + sin(T,L) sin(T,V))^p,
# with T the segment direction, in the camera frame; colours are lit in linear light.
HAIR_LINES_VERTEX = """
#version 330
uniform mat4 proj;
in vec3 in_pos;
in vec4 in_color;
in vec3 in_tangent;
out vec4 v_color;
out vec3 v_tangent;
out vec3 v_pos;
void main() {
    v_color = in_color;
    v_tangent = in_tangent;
    v_pos = in_pos;
    gl_Position = proj * vec4(in_pos, 1.0);
}
"""

HAIR_LINES_FRAGMENT = """
#version 330
uniform vec3 light_dir;
uniform float ambient;
uniform float specular;
uniform float shininess;
in vec4 v_color;
in vec3 v_tangent;
in vec3 v_pos;
layout(location = 0) out vec4 f_color;
void main() {
    vec3 t = normalize(v_tangent);
    vec3 l = normalize(light_dir);
    vec3 v = normalize(-v_pos);
    float tl = dot(t, l);
    float tv = dot(t, v);
    float sin_tl = sqrt(max(1.0 - tl * tl, 0.0));
    float sin_tv = sqrt(max(1.0 - tv * tv, 0.0));
    vec3 albedo = pow(v_color.rgb, vec3(2.2));
    // fibres seen end-on show no highlight band (sin_tv factor): keeps dark, radial hair (afro) dark
    float spec = pow(max(tl * tv + sin_tl * sin_tv, 0.0), shininess) * sin_tv;
    vec3 lin = albedo * (ambient + (1.0 - ambient) * sin_tl) + specular * spec * mix(vec3(1.0), albedo, 0.7);
    f_color = vec4(pow(clamp(lin, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""

ID_VERTEX = """
#version 330
uniform mat4 proj;
in vec3 in_pos;
out vec3 v_bary;
out float v_depth;
void main() {
    int k = gl_VertexID % 3;
    v_bary = vec3(k == 0 ? 1.0 : 0.0, k == 1 ? 1.0 : 0.0, k == 2 ? 1.0 : 0.0);
    v_depth = -in_pos.z;
    gl_Position = proj * vec4(in_pos, 1.0);
}
"""

ID_FRAGMENT = """
#version 330
in vec3 v_bary;
in float v_depth;
layout(location = 0) out vec4 f_out;
void main() {
    // triangle id + 1 is exact in float32 up to 2^24 triangles; 0 marks the background.
    f_out = vec4(float(gl_PrimitiveID + 1), v_bary.x, v_bary.y, v_depth);
}
"""

UV_VERTEX = """
#version 330
in vec2 in_uv;
in vec4 in_attr;
out vec4 v_attr;
void main() {
    v_attr = in_attr;
    gl_Position = vec4(in_uv * 2.0 - 1.0, 0.0, 1.0);
}
"""

UV_FRAGMENT = """
#version 330
in vec4 v_attr;
layout(location = 0) out vec4 f_attr;
void main() {
    f_attr = v_attr;
}
"""
