"""Deep-feature models of normality on tiny seeded synthetic images (real backbone, no mocks)."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from ctreview.errors import CtreviewError
from ctreview.model.features import FeatureSettings, build_feature_model, load_feature_model
from ctreview.model.features.coreset import coverage_radius, greedy_coreset, random_subset
from ctreview.model.nets.backbone import load_backbone

SIZE = 96
DEFECT = (60, 35)
INNER = np.zeros((SIZE, SIZE), bool)
INNER[12:-12, 12:-12] = True  # like a ROI crop with a margin: the image border is not scored


# PatchCore as published (stride 8 + 16, native scale): the shapes below are worked out for it
PUBLISHED = dict(taps=("_blocks.4", "_blocks.10"), scale=1.0, presmooth=0.0)


def S(**kw) -> FeatureSettings:
    return FeatureSettings(**{**PUBLISHED, **kw})


@pytest.fixture(scope="module")
def backbone():
    return load_backbone(taps=PUBLISHED["taps"])


def texture(rng, jitter=None):
    """Smooth blobs on a fine periodic texture with noise; ``jitter`` fixes the blob layout."""
    y, x = np.mgrid[:SIZE, :SIZE]
    img = 0.3 + 0.05 * np.sin(x / 2.0 + rng.uniform(0, 6)) * np.sin(y / 2.0 + rng.uniform(0, 6))
    layout = np.random.default_rng(99) if jitter is not None else rng
    for _ in range(4):
        cy, cx = layout.uniform(10, SIZE - 10, 2) + (0 if jitter is None else rng.normal(0, jitter, 2))
        r = layout.uniform(5, 10)
        img += 0.2 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))
    return np.clip(img + 0.02 * rng.standard_normal((SIZE, SIZE)), 0, 1).astype(np.float32)


def with_defect(image):
    y, x = np.mgrid[:SIZE, :SIZE]
    out = image.copy()
    out[(y - DEFECT[0]) ** 2 + (x - DEFECT[1]) ** 2 <= 25] = 1.0
    return out


def assert_finds_defect(result):
    *normal, defective = result.scores
    assert defective > max(normal)
    peak = np.unravel_index(np.argmax(np.where(INNER, result.maps[-1], -np.inf)), (SIZE, SIZE))
    assert np.hypot(peak[0] - DEFECT[0], peak[1] - DEFECT[1]) <= 8


@pytest.mark.parametrize("coreset", ["greedy", "random", "none"])
def test_patchcore_separates_an_obvious_defect(backbone, coreset):
    rng = np.random.default_rng(0)
    normal = [texture(rng) for _ in range(8)]
    test = [texture(rng) for _ in range(5)]
    model = build_feature_model(S(coreset=coreset, coreset_ratio=0.25), backbone=backbone)
    model.fit(normal, [INNER] * 8)
    result = model.score(test + [with_defect(test[0])], [INNER] * 6)
    assert_finds_defect(result)
    assert all(m.shape == (SIZE, SIZE) and m.dtype == np.float32 for m in result.maps)


def test_the_default_settings_separate_an_obvious_defect():
    rng = np.random.default_rng(0)
    normal = [texture(rng) for _ in range(8)]
    test = [texture(rng) for _ in range(5)]
    model = build_feature_model().fit(normal, [INNER] * 8)
    assert model.settings.scale == 2.0 and model.features.backbone.taps == ("_blocks.4",)
    assert_finds_defect(model.score(test + [with_defect(test[0])], [INNER] * 6))


def test_a_backbone_that_does_not_match_the_settings_is_refused(backbone):
    with pytest.raises(CtreviewError, match="taps"):
        build_feature_model(FeatureSettings(taps=("_blocks.2",)), backbone=backbone)


def test_padim_separates_a_defect_on_aligned_images(backbone):
    rng = np.random.default_rng(1)
    normal = [texture(rng, jitter=1.0) for _ in range(12)]
    test = [texture(rng, jitter=1.0) for _ in range(5)]
    model = build_feature_model(S(method="padim", reduce=48), backbone=backbone).fit(normal)
    assert model.mean.shape == (12 * 12, 48) and model.inv_cov.shape == (144, 48, 48)
    assert_finds_defect(model.score(test + [with_defect(test[0])], [INNER] * 6))
    with pytest.raises(CtreviewError, match="one size"):
        model.fit([texture(rng), texture(rng)[:64, :64]])
    with pytest.raises(CtreviewError, match="fitted size"):
        model.score([texture(rng)[:64, :64]])


def test_memory_bank_holds_only_patches_inside_the_masks(backbone):
    rng = np.random.default_rng(2)
    images = [texture(rng) for _ in range(2)]
    mask = np.zeros((SIZE, SIZE), bool)
    mask[:20, :33] = True  # cells (8 px) overlapping it: 3 rows x 5 columns
    model = build_feature_model(S(coreset="none"), backbone=backbone).fit(images, [mask] * 2)
    assert model.bank.shape == (2 * 3 * 5, 152)
    assert model.nbytes == model.bank.numel() * 4
    with pytest.raises(CtreviewError, match="no normal patch"):
        model.fit(images, [np.zeros((SIZE, SIZE), bool)] * 2)
    with pytest.raises(ValueError, match="frame"):            # a mask of another frame is a bug, not a fit
        model.fit(images, [mask[:-8, :-8]] * 2)


def test_greedy_coreset_keeps_rare_features_a_random_subset_loses():
    g = torch.Generator().manual_seed(0)
    common = torch.randn(2000, 200, generator=g)
    rare = torch.randn(5, 200, generator=g) + 12.0  # a rare normal texture
    features = torch.cat([common, rare])
    greedy = greedy_coreset(features, 40, dims=32, seed=0)
    assert len(set(greedy.tolist())) == 40 and (greedy >= 2000).any()
    assert torch.equal(greedy, greedy_coreset(features, 40, dims=32, seed=0))
    rand = random_subset(len(features), 40, seed=0)
    assert coverage_radius(features, greedy) < coverage_radius(features, rand)


def test_state_round_trips_through_safetensors_and_json(backbone, tmp_path):
    rng = np.random.default_rng(3)
    images = [texture(rng) for _ in range(3)]
    settings = S(coreset_ratio=0.5, reduce=64, position_window=0.5)
    model = build_feature_model(settings, backbone=backbone).fit(images, positions=[0.0, 0.5, 1.0])
    save_file(model.state_dict(), tmp_path / "features.safetensors")
    (tmp_path / "features.json").write_text(json.dumps(model.config()))
    again = load_feature_model(json.loads((tmp_path / "features.json").read_text()),
                               load_file(tmp_path / "features.safetensors"), backbone=backbone)
    probe = [texture(rng)]
    np.testing.assert_allclose(again.score(probe, positions=[0.2]).maps[0],
                               model.score(probe, positions=[0.2]).maps[0], rtol=1e-5)
    assert model.nbytes == sum(t.numel() * 4 for t in model.state_dict().values())


def test_position_window_compares_only_with_normals_at_that_position(backbone):
    rng = np.random.default_rng(4)
    flat = [np.full((SIZE, SIZE), 0.3, np.float32) + 0.02 * rng.standard_normal((SIZE, SIZE)).astype(np.float32)
            for _ in range(3)]
    blobs = [texture(rng) for _ in range(3)]
    positions = [0.0] * 3 + [1.0] * 3
    free = build_feature_model(S(coreset="none"), backbone=backbone).fit(flat + blobs)
    bound = build_feature_model(S(coreset="none", position_window=0.2), backbone=backbone)
    bound.fit(flat + blobs, positions=positions)
    probe = [texture(rng)]  # normal at position 1.0, out of place at 0.0
    masks = [INNER]
    assert bound.score(probe, masks, [0.0]).scores[0] > 1.5 * free.score(probe, masks, [0.0]).scores[0]
    assert bound.score(probe, masks, [1.0]).scores[0] < 1.2 * free.score(probe, masks, [1.0]).scores[0]
    with pytest.raises(CtreviewError, match="position"):
        bound.score(probe)


def test_views_scale_and_reductions_shape_the_features(backbone):
    rng = np.random.default_rng(5)
    stack = np.stack([texture(rng) for _ in range(3)])  # (views, y, x): a slice and two neighbours
    for settings, dim in ((S(reduce=32, views="concat"), 96),
                          (S(reduce=32, views="contrast"), 64),
                          (S(reduce=40, reduce_method="pool"), 120)):
        model = build_feature_model(settings, backbone=backbone)
        assert model.features(torch.from_numpy(stack[None])).shape == (1, dim, 12, 12)
    big = build_feature_model(S(scale=2.0), backbone=backbone)
    assert big.features(torch.from_numpy(stack[None, :1])).shape == (1, 152, 24, 24)
    assert big.fit([stack[0]]).score([stack[1][:50, :70]]).maps[0].shape == (50, 70)


def test_bad_settings_and_foreign_state_are_user_errors(backbone):
    with pytest.raises(CtreviewError, match="method"):
        FeatureSettings(method="knn")
    with pytest.raises(CtreviewError, match="odd pool"):
        FeatureSettings(pool=2)
    with pytest.raises(CtreviewError, match="not a ctreview deep-feature model"):
        load_feature_model({"format": "other"}, {}, path="m")
    model = build_feature_model(S(coreset="none"), backbone=backbone)
    model.fit([texture(np.random.default_rng(6))])
    config = model.config()
    with pytest.raises(CtreviewError, match="memory bank"):
        load_feature_model(config, {"bank": torch.zeros(3, 7)}, backbone=backbone)
    with pytest.raises(CtreviewError, match="unknown feature model settings"):
        load_feature_model({**config, "settings": {"colour": 1}}, model.state_dict(), backbone=backbone)


def test_presmoothing_makes_features_less_sensitive_to_pixel_noise(backbone):
    rng = np.random.default_rng(7)
    clean = texture(rng)
    noisy = np.clip(clean + 0.03 * rng.standard_normal(clean.shape).astype(np.float32), 0, 1)
    pair = torch.from_numpy(np.stack([clean, noisy])[:, None])
    change = {}
    for sigma in (0.0, 1.0):
        f = build_feature_model(S(presmooth=sigma), backbone=backbone).features(pair)
        change[sigma] = float((f[0] - f[1]).norm(dim=0).mean() / f[0].norm(dim=0).mean())
    assert change[1.0] < 0.7 * change[0.0]


def stripes(rng, angle_deg):
    """A periodic stripe pattern at ``angle_deg`` with noise."""
    y, x = np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2
    a = np.radians(angle_deg)
    u = x * np.cos(a) + y * np.sin(a)
    stripes = 0.4 + 0.2 * np.sin(u / 2.5 + rng.uniform(0, 6))
    return (stripes + 0.01 * rng.standard_normal((SIZE, SIZE))).astype(np.float32)


def test_rotated_copies_make_turned_normal_parts_look_normal(backbone):
    rng = np.random.default_rng(8)
    normal = [stripes(rng, 0.0) for _ in range(3)]
    probe = [stripes(rng, 30.0)]
    plain = build_feature_model(S(coreset="none"), backbone=backbone).fit(normal)
    turned = build_feature_model(S(coreset="none", rotations=(30.0,)), backbone=backbone)
    turned.fit(normal)
    # the turned copies lose the corners the turn brings in from outside the image
    assert plain.bank.shape[0] < turned.bank.shape[0] < 2 * plain.bank.shape[0]
    assert turned.score(probe, [INNER]).scores[0] < 0.7 * plain.score(probe, [INNER]).scores[0]
    assert turned.config()["settings"]["rotations"] == [30.0]
