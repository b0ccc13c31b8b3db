"""Static files: hashed names for caching, gzip for transfer.

WhiteNoise also writes Brotli copies when the brotli package is present (WeasyPrint
brings it); compressing every file at Brotli's top quality made `harken serve` spend
minutes in collectstatic, so Harken keeps to gzip.
"""

from typing import Any

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs: Any) -> Compressor:
        return super().create_compressor(**{**kwargs, "use_brotli": False})
