"""Settings of the texture stage (all colours are sRGB in [0, 1])."""

from dataclasses import dataclass
from typing import Literal

RGB = tuple[float, float, float]

DelightChroma = Literal["per_channel", "grey"]
"""How de-lighting treats colour: ``"per_channel"`` divides channel ``c`` by ``s ** k_c`` with exponents measured on
the photo's skin (:func:`~headcast.texture.lighting.fit_channel_exponents`: red shading is softer); ``"grey"``
divides all channels by one achromatic shading ``s``."""

Completion = Literal["membrane", "push_pull"]
"""How unseen face texels get their low-frequency colour: ``"membrane"`` (:func:`~headcast.texture.blend.membrane_fill`:
the smoothest colour field that meets the photo along the projection boundary and the skin tone at the seam) or
``"push_pull"`` (the earlier completion: push-pull extrapolation of the photo's deviation from the skin tone,
decaying by ``fill_decay`` per pyramid level)."""

SkinDetail = Literal["photo", "grain"]
"""Fine texture of completed skin: ``"photo"`` (random-phase noise from a patch of the person's visible skin,
:mod:`headcast.texture.detail`; the synthetic grain when no patch qualifies) or ``"grain"`` (synthetic noise of
amplitude ``skin_noise``)."""


@dataclass(frozen=True)
class TextureSettings:
    """How the UV atlas is baked from the photo and completed.

    Attributes:
        atlas_size: side of the square atlas in texels (a multiple of 16; 2048 gives the face 1024²).
        grazing_cos: ``(lo, hi)``: the photo's weight ramps from 0 to 1 as cos(angle between the surface normal
            and the direction to the camera) goes from ``lo`` to ``hi`` (smoothstep), fading out grazing views.
        nose_from_photo: on the nose (``AtlasMaps.nose_zone``) use the photo wherever its trust allows, whatever
            the view angle and self-occlusion: the photo sees the flanks and nostrils at a grazing angle or not
            at all, and a skin fill there puts a pale nose without nostrils on the face (the nose region carried
            the largest share of the same-view identity distance).
        nose_turn_deg: ``(full, none)``: ``nose_from_photo`` applies fully while the head is turned from the
            camera by at most ``full`` degrees, fading out by ``none`` (turned further, the far flank's texels
            project onto the near side of the nose).
        depth_tolerance: metres a texel may lie behind the nearest surface seen by the camera and still count
            as visible.
        oval_erosion: the detected face outline is shrunk by this fraction of the face's width before it limits
            where the photo is used (keeps background and hair at the silhouette out of the texture).
        oval_feather: width of the soft edge of that outline, as a fraction of the face's width.
        weight_erosion_px: photo weights are eroded by this many face-cell texels (per 1024) before feathering,
            so occlusion boundaries do not leak the occluder's colour.
        weight_feather_px: Gaussian sigma (face-cell texels per 1024) of the weight feathering.
        occluder_dilation: with face-parsing classes, occluders (hair, glasses, hands, ...) grow by this fraction
            of the face width before their pixels are refused (:func:`~headcast.texture.occlusion.occlusion_trust`).
        occluder_feather: width of the soft edge around the grown occluders, as a fraction of the face width.
        register_features: sample the photo where the detector found each feature rather than where the fitted
            mesh's landmark projects (a smooth shift field through the fit's landmark residuals,
            :mod:`headcast.texture.register`), so the photo's lids and lips are baked onto the mesh's.
        register_smoothing: the shift field's thin-plate-spline smoothing (face widths²).
        register_fade: the field fades out beyond the landmarks over this many face widths.
        register_max_shift: no shift longer than this fraction of the face width.
        delight: divide the photo's lighting out of the projected face before completion (an albedo texture;
            :mod:`headcast.texture.albedo`): the lighting is estimated as second-order SH on the seen skin, and
            headcast's renders light the albedo with that estimate, held fixed in the room while the head turns
            (:func:`headcast.render.views.albedo_light`). On by default: the GLB then carries an albedo that an
            engine can light (a texture with the photo's light in it is lit twice there), and on the 17 fixtures
            (`headcast eval --synthetic 0 --delight on|off`, one code snapshot) it raised the medians of PSNR
            19.15 → 19.57, SSIM 0.791 → 0.799, skin PSNR 23.3 → 24.4 and the turned faces found at ±60°
            (59 → 85 %), and lowered DIFD on 12 of 17 photos (mean 0.746 → 0.740) — but the median DIFD rose
            0.690 → 0.768 (two photos, +0.17 and +0.19, cross the gap between the distribution's two clusters) and
            the median dlib 0.340 → 0.352 (mean 0.368 → 0.366). Off: the photo texture is drawn under the
            renderer's fixed lambert light (its shading applied twice).
        delight_ridge: band-2 ridge of the lighting estimate (:func:`~headcast.texture.lighting.estimate_sh_lighting`).
        delight_floor: smallest shading divided by (mean 1 over the fitted skin): dark texels are brightened at
            most ``1 / floor`` times.
        delight_blur_px: Gaussian sigma (face-cell texels per 1024) of the blur of ``plain_skin`` that sets where
            the shading is removed (1 on plain skin, fading to 0 over eyes, brows, lips and nostrils).
        delight_explained: ``(lo, hi)``: the de-lighting strength ramps from 0 to 1 as the fraction of the skin's
            variance the lighting explains goes from ``lo`` to ``hi`` (smoothstep).
        delight_facing: ``(lo, hi)``: and as the z of the dominant light direction in the camera frame (+1 =
            from the camera, −1 = from behind the head) goes from ``lo`` to ``hi``.
        delight_min_samples: fewer well-seen skin texels than this (weight > 0.5): no estimate, no de-lighting.
        delight_chroma: one shading for all channels or one exponent per channel (:data:`DelightChroma`).
        mirror: complete occluded face texels from the mirrored side of the face.
        hair_gate: above the eyes (excluding brows), drop photo texels whose colour is far from the skin tone.
        skin_noise: amplitude (relative luminance) of the synthetic grain added to completed skin.
        completion: how unseen face texels get their low-frequency colour (:data:`Completion`).
        fill_decay: ``"push_pull"`` only: per pyramid level, how much of the visible colour's low-frequency
            deviation from the skin tone carries into unseen regions (0 = flat skin tone, 1 = pure push-pull).
        membrane_grid: ``"membrane"`` only: side of the coarse grid the membrane is solved on (the face cell is
            area-averaged to it; 128 at a 1024² face cell = 8-texel blocks; the fill takes ~60 ms).
        membrane_screening: ``"membrane"`` only: pull of every coarse texel towards the skin tone, relative to one
            neighbour link; the photo's colours carry about ``1 / sqrt(screening)`` grid texels into unseen skin
            before settling to the skin tone (0 = pure membrane, bounded only by the seam).
        skin_detail: fine texture of completed skin (:data:`SkinDetail`).
        detail_patch: side (face-cell texels per 1024) of the square of visible skin the detail is synthesised from.
        detail_sigma_px: the detail is the patch's relative high-pass ``c / G_σ(c) − 1`` with this Gaussian sigma
            (face-cell texels per 1024); coarser variation is the membrane's.
        detail_min_face_px: photo detail only from a face at least this wide in the photo (pixels); a smaller
            face is magnified several times into the face cell and its high-pass is interpolation and JPEG noise.
        skin_fallback: skin tone used when too few skin texels are seen.
        iris_fallback: iris colour used when the iris cannot be measured in the photo.
        sclera: white of the eye.
        pupil: pupil colour.
        catchlight: paint a small soft highlight on the cornea (upper, towards the default light).
        iris_from_photo: paint the irises with the photo's iris ring colours, centre to limbus (pupil size, iris
            colour, limbal ring), where both eyes show enough iris (else the procedural iris in the measured mean
            colour), and the whites in the photo's measured colour (else ``sclera`` × the exposure factor).
        eyes_from_photo: texture the eyeballs from the photo inside the eye openings (:mod:`headcast.texture.
            eyeball`: its iris, pupil, catchlight and whites), the painted eye where the lids hide it.
        teeth: teeth colour (where the photo shows no teeth).
        teeth_from_photo: texture the teeth from the photo where it shows them (:mod:`headcast.texture.teeth`).
        gums_tongue: gums and tongue colour.
        mouth_socket: inside of the mouth.
        eye_socket: blend of the skin tone towards this pink for the eye sockets (conjunctiva, caruncle).
        lashes: eyelash colour.
    """

    atlas_size: int = 2048
    grazing_cos: tuple[float, float] = (0.3, 0.65)
    nose_from_photo: bool = True
    nose_turn_deg: tuple[float, float] = (15.0, 30.0)
    depth_tolerance: float = 0.005
    oval_erosion: float = 0.035
    oval_feather: float = 0.04
    weight_erosion_px: int = 12
    weight_feather_px: float = 8.0
    occluder_dilation: float = 0.015
    occluder_feather: float = 0.03
    register_features: bool = False
    register_smoothing: float = 1e-4
    register_fade: float = 0.05
    register_max_shift: float = 0.05
    delight: bool = True
    delight_ridge: float = 0.1
    delight_floor: float = 0.3
    delight_blur_px: float = 8.0
    delight_explained: tuple[float, float] = (0.3, 0.5)
    delight_facing: tuple[float, float] = (-0.4, -0.1)
    delight_min_samples: int = 1000
    delight_chroma: DelightChroma = "per_channel"
    mirror: bool = True
    hair_gate: bool = True
    skin_noise: float = 0.02
    completion: Completion = "membrane"
    fill_decay: float = 0.6
    membrane_grid: int = 128
    membrane_screening: float = 0.001
    skin_detail: SkinDetail = "photo"
    detail_patch: int = 128
    detail_sigma_px: float = 6.0
    detail_min_face_px: float = 320.0
    skin_fallback: RGB = (0.80, 0.62, 0.52)
    iris_fallback: RGB = (0.33, 0.24, 0.17)
    sclera: RGB = (0.90, 0.87, 0.84)
    pupil: RGB = (0.02, 0.02, 0.025)
    catchlight: bool = True
    iris_from_photo: bool = True
    eyes_from_photo: bool = True
    teeth: RGB = (0.90, 0.86, 0.78)
    teeth_from_photo: bool = True
    gums_tongue: RGB = (0.78, 0.40, 0.42)
    mouth_socket: RGB = (0.28, 0.10, 0.09)
    eye_socket: RGB = (0.80, 0.45, 0.45)
    lashes: RGB = (0.09, 0.07, 0.06)

    def __post_init__(self) -> None:
        if self.atlas_size < 64 or self.atlas_size % 16:
            raise ValueError(f"atlas_size must be a multiple of 16 and at least 64, got {self.atlas_size}")
        lo, hi = self.grazing_cos
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"grazing_cos must satisfy 0 <= lo < hi <= 1, got {self.grazing_cos}")
        lo, hi = self.nose_turn_deg
        if not 0.0 <= lo < hi <= 180.0:
            raise ValueError(f"nose_turn_deg must satisfy 0 <= full < none <= 180, got {self.nose_turn_deg}")
        for name in ("delight_explained", "delight_facing"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must satisfy lo <= hi, got {(lo, hi)}")
        if self.delight_floor <= 0.0 or self.delight_ridge < 0.0:
            raise ValueError(
                f"delight_floor must be > 0 and delight_ridge >= 0, got {self.delight_floor}, {self.delight_ridge}"
            )
        if self.membrane_grid < 8 or self.membrane_screening < 0.0:
            raise ValueError(
                f"membrane_grid must be >= 8 and membrane_screening >= 0, got {self.membrane_grid}, "
                f"{self.membrane_screening}"
            )


CALIBRATION_TEXTURE = TextureSettings(
    completion="push_pull",
    skin_detail="grain",
    delight=False,
    iris_from_photo=False,
    eyes_from_photo=False,
    nose_from_photo=False,
)
"""The bake the packaged MediaPipe landmark calibration was made with (``scripts/make_correspondences.py``, step 7
of ``headcast.fitting.mediapipe_embedding``: the detector run on renders of the mean head wearing fixture
textures). The calibration's renders keep this bake, and no face parsing, so the table regenerates whatever the
default texture becomes; the detector's landmarks on a render depend on the texture it wears (the painted eyes and
the skin-filled nose: the eyes and the nose from the photo came after the table)."""
