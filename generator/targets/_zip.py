"""Zip archives whose bytes depend only on what goes in them (the deck and Canvas's package).

Its own module so a Canvas-only build does not import genanki with the deck's code.
"""
from __future__ import annotations

import io
import time
import zipfile


def zip_bytes(entries, timestamp: int) -> bytes:
    """A zip whose bytes depend only on the entries and the timestamp. An entry's data is bytes
    or an iterable of byte strings (compressed as they come, never joined)."""
    date = time.gmtime(max(timestamp, 315532800))[:6]   # zip dates start in 1980
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            if isinstance(data, (bytes, str)):
                zf.writestr(info, data)
                continue
            with zf.open(info, "w") as member:
                for chunk in data:
                    member.write(chunk)
    return buf.getvalue()
