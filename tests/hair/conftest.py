"""Fixtures of the hair tests: a fitted-like ICT head prepared for hair (mean identity, neutral pose)."""

import numpy as np
import pytest

from headcast.geometry.camera import HeadPose
from headcast.hair.head import HairHead, prepare_head
from headcast.headmodel.base import HeadParams, LinearHeadModel


@pytest.fixture(scope="session")
def mean_params(ict_model: LinearHeadModel) -> HeadParams:
    return HeadParams(
        np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions), HeadPose(np.zeros(3), np.zeros(3))
    )


@pytest.fixture(scope="session")
def hair_head(ict_model: LinearHeadModel, mean_params: HeadParams) -> HairHead:
    return prepare_head(ict_model, mean_params)
