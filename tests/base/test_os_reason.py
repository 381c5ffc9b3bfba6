"""What the operating system said, in the user's language (cb_core.i18n.os_reason), in keyed errors."""
from __future__ import annotations

import errno

import pytest

from cb_core.diskio import _storage_error
from cb_core.i18n import error_text, os_reason, strings


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.ENOENT, errno.EIO])
def test_known_error_numbers_are_said_in_both_languages(code):
    exc = OSError(code, "English text of the C library")
    key = f"os_errno_{errno.errorcode[code]}"
    assert os_reason(exc, "ko") == strings()[key]["ko"]
    assert os_reason(exc, "en") == strings()[key]["en"]
    assert "English text" not in os_reason(exc, "ko")


def test_an_unknown_error_number_keeps_the_systems_text():
    assert os_reason(OSError(errno.EXDEV, "Invalid cross-device link"), "ko") == "Invalid cross-device link"
    assert os_reason(OSError("no number at all"), "ko") == "no number at all"


def test_a_full_disk_is_said_wholly_in_korean():
    exc = _storage_error(OSError(errno.ENOSPC, "No space left on device"), "/state/models/x", "the model")
    ko, en = error_text(exc, "ko"), error_text(exc, "en")
    assert "디스크에 남은 공간이 없습니다" in ko and "No space left" not in ko
    assert "no space left on the disk" in en
    assert "No space left on device" in str(exc)  # the English message for logs keeps the system's words
