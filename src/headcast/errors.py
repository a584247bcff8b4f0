"""Errors a user can act on. Each message says what went wrong and what to do."""


class HeadcastError(Exception):
    """Base class of every error headcast raises on purpose."""

    exit_code = 1


class InputImageError(HeadcastError):
    """The input is not a readable image (not an image, truncated, too large, unsupported mode)."""

    exit_code = 3


class NoFaceError(HeadcastError):
    """No face was found in the photo."""

    exit_code = 4


class AssetError(HeadcastError):
    """A model file is missing or does not match its checksum."""

    exit_code = 5


class MultipleFacesError(HeadcastError):
    """Several faces were found and the caller asked for exactly one (``faces="error"``)."""

    exit_code = 6


class OptionalComponentError(HeadcastError):
    """A component outside the base install is missing: an extra's package or a downloaded weight file.

    ``headcast doctor`` lists every component and what to run for each missing one.
    """

    exit_code = 7
